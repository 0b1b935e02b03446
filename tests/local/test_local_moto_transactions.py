"""A cancelled `TransactWriteItems` writes nothing, to the table or to its stream (devstack/motoserver.py).

The first test runs moto as released and pins its gap (the reproduction in devstack/appsync/README.md):
when it starts failing after a moto upgrade, moto has fixed it and `devstack.motoserver` can go. The others
run against the moto server every suite uses (started through `devstack.motoserver`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from devstack.servers import ChildServer, start_moto


@dataclass
class Streamed:
    """A fresh table with a NEW_AND_OLD_IMAGES stream, and clients for both."""

    dynamodb: Any
    streams: Any
    table: str
    stream_arn: str
    shard_id: str

    def iterator(self, kind: str = "TRIM_HORIZON") -> str:
        found: str = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType=kind
        )["ShardIterator"]
        return found

    def read(self, iterator: str) -> tuple[list[tuple[str, str, int]], str]:
        """(event name, key, sequence number) of each record, and the next iterator."""
        answer = self.streams.get_records(ShardIterator=iterator)
        records = [
            (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["SequenceNumber"]))
            for r in answer["Records"]
        ]
        return records, answer["NextShardIterator"]

    def put(self, key: str, **attributes: Any) -> None:
        self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": key}, **attributes})

    def cancelled_transaction(self, *writes: dict[str, Any]) -> None:
        """The writes, then a condition on an item that does not exist: `addReview` on a missing listing."""
        check = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": {"pk": {"S": f"missing-{uuid.uuid4().hex[:6]}"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        with pytest.raises(self.dynamodb.exceptions.TransactionCanceledException):
            self.dynamodb.transact_write_items(TransactItems=[*writes, check])

    def keys(self) -> list[str]:
        items = self.dynamodb.scan(TableName=self.table, ConsistentRead=True)["Items"]
        return sorted(item["pk"]["S"] for item in items)


def streamed(url: str) -> Streamed:
    dynamodb = boto3.client("dynamodb", endpoint_url=url)
    streams = boto3.client("dynamodbstreams", endpoint_url=url)
    name = f"tx-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return Streamed(dynamodb, streams, name, arn, shard)


def put_op(table: str, key: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": key}}}}


@pytest.fixture
def table(moto_server: ChildServer) -> Iterator[Streamed]:
    made = streamed(moto_server.url)
    yield made
    made.dynamodb.delete_table(TableName=made.table)


@pytest.fixture(scope="module")
def released_moto() -> Iterator[ChildServer]:
    server = start_moto(plain=True)
    yield server
    server.stop()


def test_released_moto_streams_a_put_of_a_cancelled_transaction(released_moto: ChildServer) -> None:
    """moto 5.2.5 as released (the upstream report): the gap `devstack.motoserver` closes still exists."""
    t = streamed(released_moto.url)
    opened = t.iterator()

    t.cancelled_transaction(put_op(t.table, "review"))

    assert t.keys() == []  # the table holds nothing...
    phantom, stale = t.read(opened)
    assert [(name, key) for name, key, _ in phantom] == [("INSERT", "review")]  # ...yet the stream has it
    t.put("after")
    assert t.read(stale)[0] == []  # the open iterator never sees a later write
    (real,) = t.read(t.iterator())[0]
    assert real[1] == "after" and real[2] == phantom[0][2]  # and that write reuses the phantom's number


def test_a_cancelled_transaction_leaves_no_stream_record(table: Streamed) -> None:
    table.put("before")
    before, opened = table.read(table.iterator())
    assert [key for _, key, _ in before] == ["before"]

    table.cancelled_transaction(put_op(table.table, "review"))

    assert table.keys() == ["before"]
    assert table.read(opened)[0] == [], "a cancelled transaction's Put reached the stream"
    assert table.read(table.iterator())[0] == before  # a new iterator agrees


def test_an_iterator_open_across_a_cancelled_transaction_reads_on(table: Streamed) -> None:
    table.put("before")
    before, opened = table.read(table.iterator())

    table.cancelled_transaction(put_op(table.table, "review"))
    table.put("after")

    after, _ = table.read(opened)
    assert [(name, key) for name, key, _ in after] == [("INSERT", "after")]
    assert after[0][2] > before[-1][2], "sequence numbers keep increasing"


def test_cancelled_updates_and_deletes_leave_items_and_stream_as_they_were(table: Streamed) -> None:
    table.put("kept", n={"N": "1"})
    table.put("doomed")
    opened = table.read(table.iterator())[1]

    table.cancelled_transaction(
        {
            "Update": {
                "TableName": table.table,
                "Key": {"pk": {"S": "kept"}},
                "UpdateExpression": "SET n = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {"Delete": {"TableName": table.table, "Key": {"pk": {"S": "doomed"}}}},
    )

    assert table.keys() == ["doomed", "kept"]
    kept = table.dynamodb.get_item(TableName=table.table, Key={"pk": {"S": "kept"}}, ConsistentRead=True)
    assert kept["Item"]["n"] == {"N": "1"}
    assert table.read(opened)[0] == []


def test_a_committed_transaction_still_streams_every_write(table: Streamed) -> None:
    opened = table.iterator()
    table.dynamodb.transact_write_items(TransactItems=[put_op(table.table, "a"), put_op(table.table, "b")])
    records, _ = table.read(opened)
    assert [(name, key) for name, key, _ in records] == [("INSERT", "a"), ("INSERT", "b")]


def test_no_reader_sees_a_transaction_that_is_then_cancelled(table: Streamed) -> None:
    """moto applies a transaction's writes one by one; a stream read in between must not see them."""
    opened = table.iterator("LATEST")
    seen: list[tuple[str, str, int]] = []
    stop = threading.Event()

    def read_on() -> None:
        iterator = opened
        while not stop.is_set():
            records, iterator = table.read(iterator)
            seen.extend(records)

    reader = threading.Thread(target=read_on)
    reader.start()
    try:
        for attempt in range(8):
            table.cancelled_transaction(*(put_op(table.table, f"r{attempt}-{i:02d}") for i in range(99)))
    finally:
        stop.set()
        reader.join(10)
    assert seen == []
    assert table.keys() == []


def test_a_write_during_a_cancelled_transaction_is_not_undone(table: Streamed) -> None:
    """moto's rollback puts back a copy of the table taken before the transaction: a write that landed
    meanwhile must wait for the transaction instead of being silently undone."""
    written: list[str] = []
    stop = threading.Event()

    def write_on() -> None:
        while not stop.is_set():
            key = f"w{len(written):04d}"
            table.put(key)
            written.append(key)

    writer = threading.Thread(target=write_on)
    writer.start()
    try:
        for attempt in range(8):
            table.cancelled_transaction(*(put_op(table.table, f"r{attempt}-{i:02d}") for i in range(99)))
    finally:
        stop.set()
        writer.join(10)
    assert written and table.keys() == written
    records, _ = table.read(table.iterator())
    assert [key for _, key, _ in records] == written


def test_an_element_with_two_operations_is_refused_before_anything_is_written(table: Streamed) -> None:
    """moto raises this one mid-transaction without rolling back; DynamoDB refuses the request whole."""
    opened = table.iterator()
    two_ops = {
        **put_op(table.table, "second"),
        "Delete": {"TableName": table.table, "Key": {"pk": {"S": "x"}}},
    }
    with pytest.raises(table.dynamodb.exceptions.ClientError, match="ValidationException"):
        table.dynamodb.transact_write_items(TransactItems=[put_op(table.table, "first"), two_ops])
    assert table.keys() == []
    assert table.read(opened)[0] == []
