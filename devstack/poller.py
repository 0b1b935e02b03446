"""The local stand-in for Lambda's event source mapping: poll a DynamoDB stream, invoke a handler.

`StreamPoller` reads every shard of the stream with `dynamodbstreams` (children only after their parent
is read to its end), gathers batches by `batch_size` and `maximum_batching_window_in_seconds`, turns the
records into the shape Lambda delivers (`eventSourceARN`, epoch-second `ApproximateCreationDateTime`,
base64 binary values), and hands each batch to `devstack.esm.BatchRunner`, which applies the retry,
bisect and discard rules and commits the durable checkpoint.

Run it as a process: `python -m devstack.poller --endpoint URL --table NAME --checkpoint FILE
--on-failure-queue-url URL [--handler projector.handler.lambda_handler]
[--cascade-handler projector.cascade.lambda_handler --cascade-checkpoint FILE]`. With a cascade handler, a
second poller in the same process reads the same stream for it, with its own checkpoint, settings and
filter (terraform/definitions/review_cascade.json), as the second event source mapping does on AWS
(terraform/modules/projector/cascade.tf): only a listing's REMOVE records reach it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack.checkpoint import CheckpointStore
from devstack.definitions import CascadeDefinition, EsmSettings
from devstack.esm import BatchRunner, Handler, Record
from devstack.event_filter import record_filter
from devstack.ttl import TTL_IDENTITY, ServiceDeletes, TtlSweeper
from stackclient.lambda_wire import lambda_record

log = logging.getLogger("devstack.poller")

# Lambda polls each shard about four times a second; locally a shorter interval keeps the lag low
# at the cost of ~5 ms of moto CPU per empty poll.
DEFAULT_POLL_INTERVAL_S = 0.05
SHARD_REFRESH_S = 5.0
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit


@dataclass
class ShardState:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    buffer: list[Record] = field(default_factory=list)
    first_buffered_at: float = 0.0
    closed: bool = False


class StreamPoller:
    """Polls every shard of one stream and drives a handler with Lambda's event source mapping rules."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Handler,
        settings: EsmSettings,
        checkpoints: CheckpointStore,
        send_on_failure: Any,
        *,
        region: str = "us-east-1",
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        function_timeout_s: float = 60.0,
        retry_delay_s: float = 0.1,
        clock: Callable[[], float] = time.time,
        service_deletes: ServiceDeletes | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        record_filter: Callable[[Record], bool] | None = None,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.settings = settings
        self.checkpoints = checkpoints
        self.send_on_failure = send_on_failure
        self.region = region
        self.poll_interval_s = poll_interval_s
        self.function_timeout_s = function_timeout_s
        self.retry_delay_s = retry_delay_s
        self.clock = clock
        self.service_deletes = service_deletes or ServiceDeletes()
        self.max_payload_bytes = max_payload_bytes
        # The mapping's FilterCriteria (devstack/event_filter.py): unmatched records never reach the handler.
        self.record_filter = record_filter
        self.stop_event = threading.Event()
        self.shards: dict[str, ShardState] = {}
        self._shards_listed_at = -math.inf
        self.invocations = 0

    # -- shards ---------------------------------------------------------------------------------------

    def list_shards(self) -> list[dict[str, Any]]:
        """Every shard of the stream (`DescribeStream` pages through them by `ExclusiveStartShardId`)."""
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description["Shards"])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def refresh_shards(self) -> None:
        for shard in self.list_shards():
            shard_id = shard["ShardId"]
            if shard_id not in self.shards and not self.checkpoints.finished(self.stream_arn, shard_id):
                self.shards[shard_id] = ShardState(shard_id, shard.get("ParentShardId"))
        self._shards_listed_at = time.monotonic()

    def _ready(self, state: ShardState) -> bool:
        """A child shard waits until its parent is read to its end (order per item key)."""
        parent = state.parent_id
        return (
            parent is None or parent not in self.shards or self.checkpoints.finished(self.stream_arn, parent)
        )

    def _iterator(self, state: ShardState) -> str:
        position = self.checkpoints.sequence_number(self.stream_arn, state.shard_id)
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": state.shard_id}
        if position is not None:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=position)
        elif state.parent_id in self.shards or (
            state.parent_id is not None and self.checkpoints.finished(self.stream_arn, state.parent_id)
        ):
            request["ShardIteratorType"] = "TRIM_HORIZON"  # a child of a shard we read: from its start
        else:
            request["ShardIteratorType"] = self.settings.starting_position
        iterator: str = self.streams.get_shard_iterator(**request)["ShardIterator"]
        return iterator

    # -- polling --------------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """One pass over the shards: read, and deliver the batches that are due. Returns records handled."""
        if time.monotonic() - self._shards_listed_at > SHARD_REFRESH_S or any(
            s.closed for s in self.shards.values()
        ):
            self._drop_finished()
            self.refresh_shards()
        handled = 0
        for state in list(self.shards.values()):
            if self.stop_event.is_set():
                break
            if self._ready(state):
                handled += self._poll_shard(state)
        return handled

    def _poll_shard(self, state: ShardState) -> int:
        # Records the filter dropped count as progress: a pass that read only those is not idle.
        dropped = 0
        if not state.closed and len(state.buffer) < self.settings.batch_size:
            dropped = self._read(state)
        window = self.settings.maximum_batching_window_in_seconds
        due = len(state.buffer) >= self.settings.batch_size or (
            state.buffer and (state.closed or time.monotonic() - state.first_buffered_at >= window)
        )
        handled = dropped
        if due:
            batch = self._take_batch(state)
            state.first_buffered_at = time.monotonic()
            handled += self._deliver(state, batch)
        if state.closed and not state.buffer:
            self.checkpoints.finish(self.stream_arn, state.shard_id)
        return handled

    def _take_batch(self, state: ShardState) -> list[Record]:
        """Up to `batch_size` records, cut where the event would pass Lambda's 6 MB invocation payload."""
        batch: list[Record] = []
        size = len('{"Records": []}')
        for record in state.buffer[: self.settings.batch_size]:
            size += len(json.dumps(record, separators=(",", ":"))) + 1
            if batch and size > self.max_payload_bytes:
                break
            batch.append(record)
        del state.buffer[: len(batch)]
        return batch

    def _read(self, state: ShardState) -> int:
        """Read the next records into the buffer; returns how many the filter dropped."""
        if state.iterator is None:
            state.iterator = self._iterator(state)
        try:
            response = self.streams.get_records(
                ShardIterator=state.iterator, Limit=min(1000, self.settings.batch_size - len(state.buffer))
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ExpiredIteratorException":
                state.iterator = None  # re-open from the checkpoint
                return 0
            if code == "TrimmedDataAccessException":
                log.error(
                    "shard %s: checkpoint is past the 24 h retention; records were lost", state.shard_id
                )
                self.checkpoints.commit(self.stream_arn, state.shard_id, "0")
                state.iterator = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=state.shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                return 0
            raise
        records = []
        raws = response.get("Records", [])
        for raw in raws:
            record = lambda_record(raw, self.stream_arn)
            if raw.get("eventName") == "REMOVE" and self.service_deletes.take(raw["dynamodb"]["Keys"]):
                record["userIdentity"] = TTL_IDENTITY  # what DynamoDB sets on a TTL delete
            if self.record_filter is None or self.record_filter(record):
                records.append(record)
        if raws and not records and not state.buffer:
            # Lambda moves past filtered-out records: with nothing pending, so does the checkpoint.
            self.checkpoints.commit(self.stream_arn, state.shard_id, raws[-1]["dynamodb"]["SequenceNumber"])
        if records and not state.buffer:
            state.first_buffered_at = time.monotonic()
        state.buffer.extend(records)
        state.iterator = response.get("NextShardIterator")
        if state.iterator is None:
            state.closed = True
        return len(raws) - len(records)

    def _deliver(self, state: ShardState, batch: list[Record]) -> int:
        runner = BatchRunner(
            self.handler,
            self.settings,
            shard_id=state.shard_id,
            stream_arn=self.stream_arn,
            commit=lambda sequence: self.checkpoints.commit(self.stream_arn, state.shard_id, sequence),
            send_on_failure=self.send_on_failure,
            function_timeout_s=self.function_timeout_s,
            region=self.region,
            retry_delay_s=self.retry_delay_s,
            clock=self.clock,
            sleep=self.stop_event.wait,
            should_stop=self.stop_event.is_set,
        )
        completed = runner.run(batch)
        self.invocations += runner.invocations
        if not completed:
            # Stopping mid-batch: forget what was read; the next start resumes from the checkpoint.
            state.buffer.clear()
            state.iterator = None
        return len(batch)

    def _drop_finished(self) -> None:
        for shard_id in [s for s in self.shards if self.checkpoints.finished(self.stream_arn, s)]:
            del self.shards[shard_id]

    def run(self, give_up_after_s: float = 60.0) -> None:
        """Poll until `stop_event` is set; sleep `poll_interval_s` after a pass that found nothing.

        Errors of the Streams API are retried with backoff (the checkpoint keeps the place); after
        `give_up_after_s` of nothing but errors the last one is raised.
        """
        failing_since: float | None = None
        while not self.stop_event.is_set():
            try:
                found = self.poll_once()
            except (ClientError, BotoCoreError):
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > give_up_after_s:
                    raise
                log.exception("reading the stream failed; retrying")
                for state in self.shards.values():
                    state.iterator, state.buffer = None, []  # re-open from the checkpoint
                self.stop_event.wait(min(5.0, 0.1 * 2 ** min(10, int(now - failing_since))))
                continue
            failing_since = None
            if found == 0:
                self.stop_event.wait(self.poll_interval_s)

    def drain(self, idle_passes: int = 2, timeout_s: float = 30.0) -> None:
        """Poll until `idle_passes` passes in a row find nothing (tests use it to wait for quiet)."""
        deadline = time.monotonic() + timeout_s
        idle = 0
        while idle < idle_passes and time.monotonic() < deadline:
            if self.poll_once() == 0:
                idle += 1
            else:
                idle = 0


def load_handler(dotted: str) -> Handler:
    """`package.module.function` → the function."""
    module_name, _, attribute = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def sqs_sender(sqs: Any, queue_url: str) -> Any:
    def send(message: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return send


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.poller", description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", required=True, help="DynamoDB/Streams/SQS endpoint (moto server URL)")
    parser.add_argument("--table", required=True, help="table whose stream to read")
    parser.add_argument("--checkpoint", required=True, type=Path, help="checkpoint file (JSON)")
    parser.add_argument("--on-failure-queue-url", required=True, help="SQS on-failure destination")
    parser.add_argument("--handler", default="projector.handler.lambda_handler", help="dotted handler path")
    parser.add_argument("--cascade-handler", help="a second consumer of the stream (the review cascade)")
    parser.add_argument("--cascade-checkpoint", type=Path, help="the second consumer's checkpoint file")
    parser.add_argument("--region", default="us-east-1", help="AWS region")
    parser.add_argument("--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL_S, help="seconds")
    parser.add_argument("--function-timeout", type=float, default=60.0, help="the handler's timeout, seconds")
    parser.add_argument(
        "--maximum-retry-attempts",
        type=int,
        help="override stream_mapping.json's MaximumRetryAttempts (-1: infinite); a soak lowers it so an "
        "outage sends batches to the on-failure destination",
    )
    parser.add_argument(
        "--ttl-sweep-interval", type=float, default=5.0, help="seconds between TTL sweeps; 0: off"
    )
    args = parser.parse_args(argv)
    if bool(args.cascade_handler) != bool(args.cascade_checkpoint):
        parser.error("--cascade-handler and --cascade-checkpoint go together")
    logging.basicConfig(level=logging.INFO, format="poller %(levelname)s %(message)s", stream=sys.stderr)

    dynamodb = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name=args.region)
    table = dynamodb.describe_table(TableName=args.table)["Table"]
    stream_arn = table["LatestStreamArn"]
    deletes = ServiceDeletes()
    settings = EsmSettings.from_definition()
    if args.maximum_retry_attempts is not None:
        settings = replace(settings, maximum_retry_attempts=args.maximum_retry_attempts)
    poller = StreamPoller(
        boto3.client("dynamodbstreams", endpoint_url=args.endpoint, region_name=args.region),
        stream_arn,
        load_handler(args.handler),
        settings,
        CheckpointStore(args.checkpoint),
        sqs_sender(
            boto3.client("sqs", endpoint_url=args.endpoint, region_name=args.region),
            args.on_failure_queue_url,
        ),
        region=args.region,
        poll_interval_s=args.poll_interval,
        function_timeout_s=args.function_timeout,
        service_deletes=deletes,
    )
    ttl = dynamodb.describe_time_to_live(TableName=args.table)["TimeToLiveDescription"]
    if args.ttl_sweep_interval > 0 and ttl.get("TimeToLiveStatus") == "ENABLED":
        keys = [key["AttributeName"] for key in table["KeySchema"]]
        sweeper = TtlSweeper(dynamodb, args.table, ttl["AttributeName"], keys, deletes)
        threading.Thread(
            target=sweeper.run, args=(poller.stop_event, args.ttl_sweep_interval), name="ttl", daemon=True
        ).start()
    pollers = [poller]
    if args.cascade_handler:
        definition = CascadeDefinition.load()
        cascade = StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=args.endpoint, region_name=args.region),
            stream_arn,
            load_handler(args.cascade_handler),
            definition.settings,
            CheckpointStore(args.cascade_checkpoint),
            sqs_sender(
                boto3.client("sqs", endpoint_url=args.endpoint, region_name=args.region),
                args.on_failure_queue_url,
            ),
            region=args.region,
            poll_interval_s=args.poll_interval,
            function_timeout_s=args.function_timeout,
            record_filter=record_filter(definition.filter_patterns),
        )
        pollers.append(cascade)
        threading.Thread(target=cascade.run, name="cascade", daemon=True).start()

    def stop(*_: object) -> None:
        for each in pollers:
            each.stop_event.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    print(json.dumps({"poller": "ready", "stream_arn": stream_arn}), flush=True)
    poller.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
