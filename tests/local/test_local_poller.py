"""The stream poller reproduces Lambda's event source mapping semantics against moto's real stream.

Each test writes items to a fresh table in moto server and drives a scripted handler that fails in a
chosen way; assertions are on what the handler saw, the checkpoint file and the on-failure queue.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

from devstack.checkpoint import CheckpointStore
from devstack.definitions import EsmSettings
from devstack.esm import interpret_response
from devstack.poller import StreamPoller, sqs_sender
from devstack.servers import ChildServer
from devstack.ttl import TTL_IDENTITY, ServiceDeletes, TtlSweeper

SETTINGS = EsmSettings(
    batch_size=10,
    maximum_batching_window_in_seconds=0,
    maximum_retry_attempts=2,
    maximum_record_age_in_seconds=3600,
    bisect_batch_on_function_error=True,
    function_response_types=("ReportBatchItemFailures",),
    starting_position="TRIM_HORIZON",
)


@dataclass
class Stream:
    """A fresh table with a stream, an on-failure queue and clients for them."""

    server: ChildServer
    table: str
    stream_arn: str
    queue_url: str
    checkpoint: Path
    calls: list[list[str]] = field(default_factory=list)

    def put(self, *keys: str, extra: dict[str, Any] | None = None) -> None:
        client = boto3.client("dynamodb", endpoint_url=self.server.url)
        for key in keys:
            client.put_item(TableName=self.table, Item={"pk": {"S": key}, **(extra or {})})

    def poller(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        settings: EsmSettings = SETTINGS,
        clock: Callable[[], float] = time.time,
        service_deletes: ServiceDeletes | None = None,
        max_payload_bytes: int = 6 * 1024 * 1024,
    ) -> StreamPoller:
        def recording(event: dict[str, Any], context: Any) -> Any:
            self.calls.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]])
            return handler(event, context)

        return StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=self.server.url),
            self.stream_arn,
            recording,
            settings,
            CheckpointStore(self.checkpoint),
            sqs_sender(boto3.client("sqs", endpoint_url=self.server.url), self.queue_url),
            retry_delay_s=0,
            function_timeout_s=2,
            clock=clock,
            service_deletes=service_deletes,
            max_payload_bytes=max_payload_bytes,
        )

    def failure_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", endpoint_url=self.server.url)
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def stream(moto_server: ChildServer, tmp_path: Path) -> Iterator[Stream]:
    name = f"poller-{uuid.uuid4().hex[:8]}"
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    queue = boto3.client("sqs", endpoint_url=moto_server.url).create_queue(QueueName=name)["QueueUrl"]
    yield Stream(moto_server, name, arn, queue, tmp_path / "checkpoint.json")
    dynamodb.delete_table(TableName=name)


def keys(n: int) -> list[str]:
    return [f"k{i:02d}" for i in range(n)]


def fail_items(*bad: str) -> Callable[[dict[str, Any], Any], Any]:
    """A handler that reports the given keys as failed items, every time."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in event["Records"]
                if r["dynamodb"]["Keys"]["pk"]["S"] in bad
            ]
        }

    return handler


def test_events_are_lambda_shaped_and_checkpointed(stream: Stream) -> None:
    stream.put(*keys(3), extra={"blob": {"B": b"\x00\x01"}})
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)
        assert 0 < context.get_remaining_time_in_millis() <= 2000

    poller = stream.poller(handler)
    poller.drain()

    assert stream.calls == [keys(3)]
    parsed = DynamoDBStreamModel.model_validate(events[0])  # Powertools' own model of the Lambda event
    record = parsed.Records[0]
    assert record.eventSource == "aws:dynamodb" and record.eventSourceARN == stream.stream_arn
    raw = events[0]["Records"][0]
    assert raw["awsRegion"] == "us-east-1"
    assert raw["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # base64, as Lambda delivers binary
    created = raw["dynamodb"]["ApproximateCreationDateTime"]
    assert created == int(created) and abs(created - time.time()) < 60
    last = events[0]["Records"][-1]["dynamodb"]["SequenceNumber"]
    assert (
        CheckpointStore(stream.checkpoint).sequence_number(
            stream.stream_arn, poller.list_shards()[0]["ShardId"]
        )
        == last
    )


def test_partial_failure_checkpoints_at_lowest_and_retries_from_there(stream: Stream) -> None:
    stream.put(*keys(6))
    failed_once: set[str] = set()

    def handler(event: dict[str, Any], context: Any) -> Any:
        failures = []
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if key in ("k04", "k02") and key not in failed_once:
                failed_once.add(key)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    stream.poller(handler).drain()

    # k02 and k04 fail together: retry from the lowest (k02), successful k03 and k05 included.
    assert stream.calls == [keys(6), keys(6)[2:]]
    assert stream.failure_messages() == []


def test_empty_item_identifier_fails_the_whole_batch(stream: Stream) -> None:
    stream.put(*keys(4))
    answers = iter([{"batchItemFailures": [{"itemIdentifier": ""}]}, None])
    settings = replace(SETTINGS, bisect_batch_on_function_error=False)

    stream.poller(lambda event, context: next(answers), settings).drain()

    assert stream.calls == [keys(4), keys(4)]


def test_response_is_ignored_without_report_batch_item_failures(stream: Stream) -> None:
    stream.put(*keys(3))
    settings = replace(SETTINGS, function_response_types=())

    stream.poller(fail_items("k01"), settings).drain()

    assert stream.calls == [keys(3)]


def test_function_error_bisects_then_discards_poison_with_lambda_shaped_message(stream: Stream) -> None:
    stream.put(*keys(8))

    def handler(event: dict[str, Any], context: Any) -> None:
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "k05" for r in event["Records"]):
            raise ValueError("poison")

    poller = stream.poller(handler)
    poller.drain()

    handled = [key for call in stream.calls for key in call if len(call) == 1 or "k05" not in call]
    assert set(handled) == set(keys(8))  # everything else reached the handler once bisected away
    # Bisecting narrows to [k05]; then 1 try + 2 retries (maximum_retry_attempts=2), then discard.
    assert stream.calls[:3] == [keys(8), keys(8)[:4], keys(8)[4:]]
    assert stream.calls.count(["k05"]) == 3
    (message,) = stream.failure_messages()
    parsed = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(message)
    info = parsed.ddb_stream_batch_info
    assert info.batch_size == 1 and info.start_sequence_number == info.end_sequence_number
    assert info.stream_arn == stream.stream_arn and info.shard_id == poller.list_shards()[0]["ShardId"]
    assert parsed.request_context.condition == "RetryAttemptsExhausted"
    assert parsed.request_context.approximate_invoke_count == 3
    assert parsed.response_context.function_error == "Unhandled"
    assert "Records" not in message and "NewImage" not in json.dumps(message)  # metadata only


def test_partial_failure_retries_are_bounded(stream: Stream) -> None:
    stream.put(*keys(5))

    stream.poller(fail_items("k03")).drain()

    # First try, then retries from k03 (the records before it are done) until the quota is spent.
    assert stream.calls == [keys(5), keys(5)[3:], keys(5)[3:]]
    (message,) = stream.failure_messages()
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_records_older_than_maximum_age_are_discarded_without_invoking(stream: Stream) -> None:
    stream.put(*keys(3))
    settings = replace(SETTINGS, maximum_record_age_in_seconds=60)

    stream.poller(lambda event, context: None, settings, clock=lambda: time.time() + 3600).drain()

    assert stream.calls == []
    (message,) = stream.failure_messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["DDBStreamBatchInfo"]["batchSize"] == 3


def test_timeout_is_a_function_error(stream: Stream) -> None:
    stream.put("slow")
    settings = replace(SETTINGS, maximum_retry_attempts=0)

    def handler(event: dict[str, Any], context: Any) -> None:
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 0.05)

    stream.poller(handler, settings).drain()

    (message,) = stream.failure_messages()
    assert message["responseContext"]["functionError"] == "Unhandled"


def test_batching_window_gathers_records(stream: Stream) -> None:
    settings = replace(SETTINGS, maximum_batching_window_in_seconds=0.5)
    poller = stream.poller(lambda event, context: None, settings)
    stream.put("a")
    poller.poll_once()
    stream.put("b", "c")
    assert stream.calls == []  # the window is still open
    deadline = time.monotonic() + 5
    while not stream.calls and time.monotonic() < deadline:
        poller.poll_once()
    assert stream.calls == [["a", "b", "c"]]


def test_batch_size_caps_each_invocation(stream: Stream) -> None:
    stream.put(*keys(7))
    stream.poller(lambda event, context: None, replace(SETTINGS, batch_size=3)).drain()
    assert stream.calls == [keys(7)[:3], keys(7)[3:6], keys(7)[6:]]


def test_restart_resumes_from_checkpoint_without_loss_or_duplicates(stream: Stream) -> None:
    stream.put(*keys(4))
    stream.poller(lambda event, context: None).drain()
    stream.put("k04", "k05")

    fresh = stream.poller(lambda event, context: None)  # a new process: state only from the file
    fresh.drain()

    assert stream.calls == [keys(4), ["k04", "k05"]]


def test_stop_mid_retry_leaves_the_failed_records_for_the_next_start(stream: Stream) -> None:
    stream.put(*keys(3))
    first: StreamPoller | None = None

    def fail_then_stop(event: dict[str, Any], context: Any) -> Any:
        if len(stream.calls) >= 2 and first is not None:
            first.stop_event.set()
        return fail_items("k01")(event, context)

    first = stream.poller(fail_then_stop, replace(SETTINGS, maximum_retry_attempts=-1))
    first.drain()
    assert stream.calls == [keys(3), ["k01", "k02"]]
    stream.calls.clear()

    stream.poller(lambda event, context: None).drain()

    assert stream.calls == [["k01", "k02"]]  # k00 was checkpointed; k01 onwards is replayed


def test_interpret_response_rejects_unknown_identifiers() -> None:
    records = [{"dynamodb": {"SequenceNumber": "10"}}, {"dynamodb": {"SequenceNumber": "11"}}]
    assert (
        interpret_response({"batchItemFailures": [{"itemIdentifier": "11"}]}, records, True).retry_from == 1
    )
    assert interpret_response(
        {"batchItemFailures": [{"itemIdentifier": "99"}]}, records, True
    ).complete_failure
    assert interpret_response(
        {"batchItemFailures": [{"itemIdentifier": None}]}, records, True
    ).complete_failure
    assert interpret_response({"batchItemFailures": [{"id": "10"}]}, records, True).complete_failure
    assert interpret_response({"batchItemFailures": []}, records, True).retry_from is None
    assert interpret_response("nonsense", records, True).complete_failure


def test_a_cancelled_transaction_is_not_delivered_and_the_stream_reads_on(stream: Stream) -> None:
    """Regression: released moto streamed the Put of a cancelled transaction (addReview on a missing
    listing), then left the open iterator reading a discarded copy of the stream. The moto server the
    suites start (devstack/motoserver.py) writes neither; the poller keeps its iterator open."""
    poller = stream.poller(lambda event, context: None)
    stream.put("k00")
    poller.drain()
    dynamodb = boto3.client("dynamodb", endpoint_url=stream.server.url)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": stream.table,
                        "Key": {"pk": {"S": "no-such-listing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": stream.table, "Item": {"pk": {"S": "phantom"}}}},
            ]
        )
    stream.put("k01")
    poller.drain()
    assert stream.calls == [["k00"], ["k01"]]


def test_ttl_sweeper_deletes_expired_items_and_marks_their_remove_records(stream: Stream) -> None:
    now = int(time.time())
    stream.put("expired", extra={"expiresAt": {"N": str(now - 10)}})
    stream.put("later", extra={"expiresAt": {"N": str(now + 3600)}})
    stream.put("text", extra={"expiresAt": {"S": "yesterday"}})  # not a number: DynamoDB ignores it
    stream.put("plain")
    dynamodb = boto3.client("dynamodb", endpoint_url=stream.server.url)
    deletes = ServiceDeletes()
    events: list[dict[str, Any]] = []
    poller = stream.poller(lambda event, context: events.append(event), service_deletes=deletes)

    assert TtlSweeper(dynamodb, stream.table, "expiresAt", ["pk"], deletes).sweep() == 1
    dynamodb.delete_item(TableName=stream.table, Key={"pk": {"S": "plain"}})  # a user's delete
    poller.drain()

    records = [record for event in events for record in event["Records"]]
    removes = {
        r["dynamodb"]["Keys"]["pk"]["S"]: r.get("userIdentity") for r in records if r["eventName"] == "REMOVE"
    }
    assert removes == {"expired": TTL_IDENTITY, "plain": None}
    model = DynamoDBStreamModel.model_validate(
        {"Records": [r for r in records if r["eventName"] == "REMOVE"]}
    )
    assert model.Records[0].userIdentity is not None and model.Records[0].userIdentity.type == "Service"
    left = {item["pk"]["S"] for item in dynamodb.scan(TableName=stream.table)["Items"]}
    assert left == {"later", "text"}


def test_ttl_sweeper_keeps_an_item_whose_ttl_was_extended_meanwhile(stream: Stream) -> None:
    stream.put("racing", extra={"expiresAt": {"N": str(int(time.time()) - 10)}})
    dynamodb = boto3.client("dynamodb", endpoint_url=stream.server.url)
    real_delete = dynamodb.delete_item

    def extend_first(**kwargs: Any) -> Any:
        stream.put("racing", extra={"expiresAt": {"N": str(int(time.time()) + 3600)}})
        return real_delete(**kwargs)

    dynamodb.delete_item = extend_first
    deletes = ServiceDeletes()
    assert TtlSweeper(dynamodb, stream.table, "expiresAt", ["pk"], deletes).sweep() == 0
    assert not deletes.take({"pk": {"S": "racing"}})
    assert dynamodb.get_item(TableName=stream.table, Key={"pk": {"S": "racing"}}).get("Item")


def test_batches_stay_under_the_invocation_payload_limit(stream: Stream) -> None:
    stream.put(*keys(5), extra={"blob": {"S": "x" * 100_000}})  # ~100 KB each; the limit here is 250 KB

    stream.poller(lambda event, context: None, max_payload_bytes=250_000).drain()

    assert stream.calls == [keys(5)[:2], keys(5)[2:4], keys(5)[4:]]
