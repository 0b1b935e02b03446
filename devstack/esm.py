"""What Lambda's event source mapping does with one batch of DynamoDB stream records.

`BatchRunner.run(batch)` invokes the handler until every record of the batch is either processed or
discarded to the on-failure destination, committing the checkpoint as it goes. It reproduces the
documented semantics (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html and
.../services-ddb-batchfailurereporting.html):

- With `ReportBatchItemFailures`, the lowest reported `itemIdentifier` is the checkpoint: the records
  before it are done, every record from it on is retried. An empty, null or unknown identifier, or a
  malformed response, fails the whole batch. Without that setting the response is ignored.
- A function error (an exception, a time-out, a malformed partial response) with
  `BisectBatchOnFunctionError` splits the batch in two halves that are retried in order; splitting does
  not use the retry quota. A batch of one record, or no bisecting, is retried as it is.
- `MaximumRetryAttempts` bounds the retries of the failing head of a batch and `MaximumRecordAgeInSeconds`
  the age of a record (-1: unbounded); then the records are discarded and a metadata-only message goes to
  the on-failure destination (never the records themselves).

Approximations (tests must not rely on them): a time-out is detected after the handler returns (it is not
interrupted), and retries wait `retry_delay_s` doubling up to `max_retry_delay_s`, not Lambda's schedule.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.definitions import EsmSettings
from stackclient.lambda_context import LambdaContext

Record = dict[str, Any]
Handler = Callable[[dict[str, Any], Any], Any]

log = logging.getLogger("devstack.esm")

RETRY_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended: `retry_from` is the index of the first record to retry (None: all done)."""

    retry_from: int | None
    function_error: str | None = None

    @property
    def complete_failure(self) -> bool:
        return self.function_error is not None


@dataclass
class Segment:
    """Records still to process, and how often their first record has already been retried."""

    records: list[Record]
    retries: int = 0  # also the number of failed invocations of its first record
    function_error: str | None = None


def sequence_number(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def on_failure_message(
    records: list[Record],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
) -> dict[str, Any]:
    """The message Lambda sends to an SQS/SNS on-failure destination for discarded stream records.

    Metadata only: the consumer re-reads the records from the stream by sequence number.
    """
    created = [float(record["dynamodb"]["ApproximateCreationDateTime"]) for record in records]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        },
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence_number(records[0]),
            "endSequenceNumber": sequence_number(records[-1]),
            "approximateArrivalOfFirstRecord": _iso(min(created)),
            "approximateArrivalOfLastRecord": _iso(max(created)),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def interpret_response(response: Any, records: list[Record], report_item_failures: bool) -> Outcome:
    """Read a handler's return value the way Lambda does (see the module docstring)."""
    if not report_item_failures or response is None:
        return Outcome(None)
    if not isinstance(response, dict):
        return Outcome(0, "InvalidResponse")
    failures = response.get("batchItemFailures")
    if not failures:
        return Outcome(None)
    if not isinstance(failures, list):
        return Outcome(0, "InvalidResponse")
    index = {sequence_number(record): position for position, record in enumerate(records)}
    positions = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in index:
            return Outcome(0, "InvalidResponse")
        positions.append(index[identifier])
    return Outcome(min(positions))


class BatchRunner:
    """Drives one shard's batches through a handler with Lambda's retry, bisect and discard rules."""

    def __init__(
        self,
        handler: Handler,
        settings: EsmSettings,
        *,
        shard_id: str,
        stream_arn: str,
        commit: Callable[[str], None],
        send_on_failure: Callable[[dict[str, Any]], None],
        function_name: str = "projector",
        function_timeout_s: float = 60.0,
        region: str = "us-east-1",
        retry_delay_s: float = 0.1,
        max_retry_delay_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.handler = handler
        self.settings = settings
        self.shard_id = shard_id
        self.stream_arn = stream_arn
        self.commit = commit
        self.send_on_failure = send_on_failure
        self.function_name = function_name
        self.function_timeout_s = function_timeout_s
        self.region = region
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self.clock = clock
        self.sleep = sleep
        self.should_stop = should_stop
        self.invocations = 0

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"

    def run(self, batch: list[Record]) -> bool:
        """Process `batch` to the end; False if asked to stop first (the checkpoint shows how far it got)."""
        pending: deque[Segment] = deque([Segment(batch)])
        while pending:
            if self.should_stop():
                return False
            segment = pending.popleft()
            segment.records = self._discard_expired(segment)
            if not segment.records:
                continue
            outcome = self.invoke(segment.records)
            if outcome.retry_from is None:
                self.commit(sequence_number(segment.records[-1]))
                continue
            done, rest = segment.records[: outcome.retry_from], segment.records[outcome.retry_from :]
            if done:
                self.commit(sequence_number(done[-1]))
            if outcome.complete_failure and self.settings.bisect_batch_on_function_error and len(rest) > 1:
                half = len(rest) // 2
                # Bisecting does not use the retry quota.
                pending.extendleft(
                    [Segment(rest[half:], segment.retries), Segment(rest[:half], segment.retries)]
                )
                continue
            retry = Segment(rest, segment.retries + 1, outcome.function_error)
            limit = self.settings.maximum_retry_attempts
            if 0 <= limit < retry.retries:
                self._discard(retry.records, RETRY_EXHAUSTED, retry.retries, outcome.function_error)
                continue
            self.sleep(min(self.max_retry_delay_s, self.retry_delay_s * 2 ** (retry.retries - 1)))
            pending.appendleft(retry)
        return True

    def invoke(self, records: list[Record]) -> Outcome:
        """One synchronous invocation with a Lambda-shaped event; exceptions become function errors."""
        self.invocations += 1
        context = LambdaContext(self.function_name, self.function_timeout_s, region=self.region)
        started = time.monotonic()
        try:
            response = self.handler({"Records": records}, context)
        except Exception:
            log.exception("handler raised on %d records (%s..)", len(records), sequence_number(records[0]))
            return Outcome(0, "Unhandled")
        elapsed = time.monotonic() - started
        if elapsed > self.function_timeout_s:
            log.error("handler timed out: %.1f s > %.1f s", elapsed, self.function_timeout_s)
            return Outcome(0, "Unhandled")
        outcome = interpret_response(response, records, self.settings.report_batch_item_failures)
        if outcome.retry_from is not None:
            log.warning(
                "batch of %d: retry from %s (%s)",
                len(records),
                sequence_number(records[outcome.retry_from]),
                outcome.function_error or "partial failure",
            )
        return outcome

    def _discard_expired(self, segment: Segment) -> list[Record]:
        max_age = self.settings.maximum_record_age_in_seconds
        if max_age < 0:
            return segment.records
        now = self.clock()
        expired = 0
        for record in segment.records:
            if now - float(record["dynamodb"]["ApproximateCreationDateTime"]) <= max_age:
                break
            expired += 1
        if expired:
            self._discard(
                segment.records[:expired], RECORD_AGE_EXCEEDED, segment.retries, segment.function_error
            )
        return segment.records[expired:]

    def _discard(
        self, records: list[Record], condition: str, invocations: int, function_error: str | None
    ) -> None:
        message = on_failure_message(
            records,
            shard_id=self.shard_id,
            stream_arn=self.stream_arn,
            function_arn=self.function_arn,
            condition=condition,
            invoke_count=invocations,
            function_error=function_error,
        )
        log.error(
            "discarding %d records %s..%s: %s",
            len(records),
            sequence_number(records[0]),
            sequence_number(records[-1]),
            condition,
        )
        self.send_on_failure(message)
        self.commit(sequence_number(records[-1]))
