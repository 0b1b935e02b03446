"""The review cascade's event filter (terraform/definitions/review_cascade.json): what Terraform deploys as
the mapping's FilterCriteria, the local poller applies, and it agrees with the handler's own rule
(projector/cascade.py `listing_id_of`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.checkpoint import CheckpointStore
from devstack.definitions import DEFINITIONS_DIR, CascadeDefinition, create_table_request
from devstack.event_filter import UnsupportedFilter, matches, record_filter
from devstack.poller import StreamPoller
from devstack.servers import ChildServer
from projector.cascade import listing_id_of
from stackclient.stack import LOCAL_AWS_ENV

REPO = Path(__file__).resolve().parents[2]
DEFINITION = CascadeDefinition.load()
ACCEPTS = record_filter(DEFINITION.filter_patterns)


def record(event: str, pk: str, sk: str, *, old: bool = True, new: bool = True) -> dict[str, Any]:
    """A Lambda-shaped DynamoDB stream record (NEW_AND_OLD_IMAGES) for the key (pk, sk)."""
    keys = {"pk": {"S": pk}, "sk": {"S": sk}}
    stream: dict[str, Any] = {
        "Keys": keys,
        "SequenceNumber": "1" * 21,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old and event != "INSERT":
        stream["OldImage"] = {**keys, "version": {"N": "1"}}
    if new and event != "REMOVE":
        stream["NewImage"] = {**keys, "version": {"N": "2"}}
    return {"eventName": event, "eventSource": "aws:dynamodb", "dynamodb": stream}


CASES = [
    ("a listing's REMOVE", record("REMOVE", "LISTING#l1", "LISTING"), True),
    ("a listing's INSERT", record("INSERT", "LISTING#l1", "LISTING"), False),
    ("a listing's MODIFY", record("MODIFY", "LISTING#l1", "LISTING"), False),
    ("a review's REMOVE", record("REMOVE", "LISTING#l1", "REVIEW#ann"), False),
    ("a review's INSERT", record("INSERT", "LISTING#l1", "REVIEW#ann"), False),
    ("another entity's REMOVE", record("REMOVE", "OWNER#l1", "LISTING"), False),
    ("a key that only contains the prefix", record("REMOVE", "X-LISTING#l1", "LISTING"), False),
    ("a sort key that only starts like the listing's", record("REMOVE", "LISTING#l1", "LISTING#2"), False),
]


@pytest.mark.parametrize(("case", "stream_record", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_the_filter_passes_only_listing_removes(
    case: str, stream_record: dict[str, Any], expected: bool
) -> None:
    assert ACCEPTS(stream_record) is expected, case


@pytest.mark.parametrize(("case", "stream_record", "expected"), CASES, ids=[case for case, _, _ in CASES])
def test_the_filter_and_the_handler_agree(case: str, stream_record: dict[str, Any], expected: bool) -> None:
    """The handler repeats the rule so it is right on its own; the two must never drift apart."""
    assert ACCEPTS(stream_record) is (listing_id_of(stream_record) is not None), case


def test_the_definition_is_bounded_and_reports_item_failures() -> None:
    settings = DEFINITION.settings
    assert settings.report_batch_item_failures and settings.bisect_batch_on_function_error
    assert settings.maximum_retry_attempts >= 0 and settings.maximum_record_age_in_seconds >= 60


def test_terraform_deploys_every_setting_and_the_filter_of_the_definition() -> None:
    """cascade.tf reads review_cascade.json; each of its settings reaches the mapping (none unused)."""
    source = (REPO / "terraform" / "modules" / "projector" / "cascade.tf").read_text()
    assert 'file("${path.module}/../../definitions/review_cascade.json")' in source
    data = json.loads((DEFINITIONS_DIR / "review_cascade.json").read_text())
    used = set(re.findall(r"local\.cascade_mapping\.(\w+)", source))
    assert used == set(data["stream_mapping"])
    assert "for_each = local.cascade_definition.filter_patterns" in source
    assert "pattern = jsonencode(filter.value)" in source
    # Lambda's limit on one pattern (API Filter.Pattern: at most 4,096 characters).
    assert all(len(json.dumps(pattern, separators=(",", ":"))) <= 4096 for pattern in data["filter_patterns"])


def test_filter_rule_semantics() -> None:
    stream_record = record("REMOVE", "LISTING#l1", "LISTING")
    assert matches({"dynamodb": {"NewImage": {"pk": {"S": [{"exists": False}]}}}}, stream_record)
    assert not matches({"dynamodb": {"OldImage": {"pk": {"S": [{"exists": False}]}}}}, stream_record)
    assert matches({"eventName": [{"anything-but": ["INSERT", "MODIFY"]}]}, stream_record)
    assert matches({"eventName": ["INSERT", "REMOVE"]}, stream_record)  # values in a list are ORed
    assert not matches(
        {"eventName": ["REMOVE"], "dynamodb": {"Keys": {"sk": {"S": ["REVIEW"]}}}}, stream_record
    )
    assert record_filter([])(stream_record)  # no FilterCriteria: every record


@pytest.mark.parametrize(
    "pattern",
    [
        {"dynamodb": {"NewImage": {"price": {"N": [{"numeric": [">", 0]}]}}}},
        {"eventName": "REMOVE"},  # a bare value, not a list of rules
        {"eventName": []},
    ],
)
def test_unsupported_filter_syntax_is_refused_at_start(pattern: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFilter):
        record_filter([pattern])


@pytest.fixture
def table(moto_server: ChildServer) -> Iterator[tuple[str, str]]:
    name = f"cascade-filter-{uuid.uuid4().hex[:8]}"
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    dynamodb.create_table(**create_table_request(name))
    yield name, dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    dynamodb.delete_table(TableName=name)


def test_the_poller_hands_the_cascade_only_listing_removes_and_moves_past_the_rest(
    moto_server: ChildServer, table: tuple[str, str], tmp_path: Path
) -> None:
    name, stream_arn = table
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)

    def put(pk: str, sk: str, version: str) -> None:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"S": sk}, "version": {"N": version}})

    def delete(pk: str, sk: str) -> None:
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": sk}})

    put("LISTING#a", "LISTING", "1")
    put("LISTING#a", "REVIEW#ann", "1")
    put("LISTING#a", "LISTING", "2")  # MODIFY
    delete("LISTING#a", "REVIEW#ann")  # a review's REMOVE
    delete("LISTING#a", "LISTING")  # the one record the cascade must see
    put("LISTING#b", "LISTING", "1")

    seen: list[list[tuple[str, str, str]]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(
            [
                (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"])
                for r in event["Records"]
            ]
        )
        return {"batchItemFailures": []}

    def poller() -> StreamPoller:
        return StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=moto_server.url),
            stream_arn,
            handler,
            DEFINITION.settings,
            CheckpointStore(tmp_path / "cascade-checkpoint.json"),
            lambda message: None,
            retry_delay_s=0,
            record_filter=ACCEPTS,
        )

    poller().drain()
    assert seen == [[("REMOVE", "LISTING#a", "LISTING")]]

    # Only filtered-out records follow: the checkpoint still moves past them, so a restart reads nothing.
    put("LISTING#c", "LISTING", "1")
    put("LISTING#c", "REVIEW#bob", "1")
    poller().drain()
    restarted = poller()
    restarted.drain()
    assert seen == [[("REMOVE", "LISTING#a", "LISTING")]] and restarted.invocations == 0
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_server.url)
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    last = streams.get_records(ShardIterator=iterator)["Records"][-1]["dynamodb"]["SequenceNumber"]
    checkpoint = CheckpointStore(tmp_path / "cascade-checkpoint.json")
    assert checkpoint.sequence_number(stream_arn, shard["ShardId"]) == last


def test_drain_reads_past_more_filtered_records_than_a_batch_holds(
    moto_server: ChildServer, table: tuple[str, str], tmp_path: Path
) -> None:
    """Regression: a pass that read only filtered-out records counted as idle, so `drain` stopped before
    the listing's REMOVE behind a few batches' worth of review writes."""
    name, stream_arn = table
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    listing = {"pk": {"S": "LISTING#busy"}, "sk": {"S": "LISTING"}, "version": {"N": "1"}}
    dynamodb.put_item(TableName=name, Item=listing)
    for n in range(3 * DEFINITION.settings.batch_size):
        item = {"pk": {"S": "LISTING#busy"}, "sk": {"S": f"REVIEW#r{n:03d}"}, "version": {"N": "1"}}
        dynamodb.put_item(TableName=name, Item=item)
    dynamodb.delete_item(TableName=name, Key={"pk": {"S": "LISTING#busy"}, "sk": {"S": "LISTING"}})
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(r["eventName"] for r in event["Records"])
        return {"batchItemFailures": []}

    StreamPoller(
        boto3.client("dynamodbstreams", endpoint_url=moto_server.url),
        stream_arn,
        handler,
        DEFINITION.settings,
        CheckpointStore(tmp_path / "cascade-checkpoint.json"),
        lambda message: None,
        record_filter=ACCEPTS,
    ).drain()
    assert seen == ["REMOVE"]


RECORDER = """
import json, os


def ignore(event, context):
    return {"batchItemFailures": []}


def record(event, context):
    with open(os.environ["CASCADE_SEEN"], "a") as out:
        for each in event["Records"]:
            keys = each["dynamodb"]["Keys"]
            out.write(json.dumps([each["eventName"], keys["pk"]["S"], keys["sk"]["S"]]) + "\\n")
    return {"batchItemFailures": []}
"""


def test_the_poller_process_filters_its_cascade_consumer(
    moto_server: ChildServer, table: tuple[str, str], tmp_path: Path
) -> None:
    """`python -m devstack.poller --cascade-handler ...` (how the local stack runs it) gives the cascade
    only listing REMOVEs, while the projector's consumer still gets every record."""
    name, _ = table
    (tmp_path / "recorder.py").write_text(RECORDER)
    seen = tmp_path / "seen.jsonl"
    queue = boto3.client("sqs", endpoint_url=moto_server.url).create_queue(QueueName=name)["QueueUrl"]
    env = {**os.environ, **LOCAL_AWS_ENV, "CASCADE_SEEN": str(seen)}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO), env.get("PYTHONPATH", "")])
    argv = [sys.executable, "-m", "devstack.poller", "--endpoint", moto_server.url, "--table", name]
    argv += ["--checkpoint", str(tmp_path / "checkpoint.json"), "--on-failure-queue-url", queue]
    argv += ["--handler", "recorder.ignore", "--cascade-handler", "recorder.record"]
    argv += ["--cascade-checkpoint", str(tmp_path / "cascade.json"), "--ttl-sweep-interval", "0"]
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["poller"] == "ready"
        dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
        for sk in ("LISTING", "REVIEW#ann", "REVIEW#bob"):
            dynamodb.put_item(
                TableName=name, Item={"pk": {"S": "LISTING#p"}, "sk": {"S": sk}, "version": {"N": "1"}}
            )
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": "LISTING#p"}, "sk": {"S": "REVIEW#ann"}})
        dynamodb.delete_item(TableName=name, Key={"pk": {"S": "LISTING#p"}, "sk": {"S": "LISTING"}})
        deadline = time.monotonic() + 20
        while not (seen.exists() and seen.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # time for anything else to arrive that should not
        lines = [json.loads(line) for line in seen.read_text().splitlines()] if seen.exists() else []
        assert lines == [["REMOVE", "LISTING#p", "LISTING"]]
    finally:
        process.terminate()
        process.wait(10)
