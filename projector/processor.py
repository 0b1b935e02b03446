"""Powertools' batch processor, with the bulk step run once per batch before the per-record pass.

Powertools has no batch-level handler (FACTS: "a bulk design does the _bulk call first, then lets the
record handler raise for records whose item failed"). ``ProjectorBatchProcessor.process`` runs the whole
batch through :class:`~projector.stream.StreamProjector`, then Powertools' own per-record pass raises for
failed records, so the partial batch response (``batchItemFailures`` of sequence numbers) is Powertools'.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse, SuccessResponse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from projector.stream import BatchResult, StreamProjector


class ProjectorBatchProcessor(BatchProcessor):
    """A ``BatchProcessor`` for DynamoDB Streams whose records are projected in bulk.

    ``raise_on_entire_batch_failure`` is off: when every record fails (OpenSearch down) the function
    still returns a well-formed partial response naming them all, and Lambda retries from the first.
    """

    def __init__(self, projector: StreamProjector, safety_margin_seconds: float = 2.0) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        self.projector = projector
        self.safety_margin_seconds = safety_margin_seconds
        self.result: BatchResult | None = None
        self.deadline: float | None = None
        self._failures: dict[int, Exception] = {}

    def set_deadline(self, context: Any) -> None:
        """Stop OpenSearch work in time to answer: the invocation's remaining time minus the margin."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            self.deadline = None
            return
        # Leave time for the dead-letter queue and the response after the last OpenSearch request.
        seconds = float(remaining()) / 1000.0 - self.safety_margin_seconds
        self.deadline = time.monotonic() + max(0.0, seconds)

    def process(self) -> list[tuple[Any, ...]]:
        self.result = self.projector.project(self.records, self.deadline)
        self._failures = {
            id(self.records[position]): error for position, error in self.result.failures.items()
        }
        if not self._failures:
            # Nothing to report: record every success as Powertools' success_handler does, in one step.
            records: list[Any] = self.records
            self.success_messages.extend(records)
            return [("success", None, record) for record in self.records]
        return super().process()

    def release(self) -> None:
        """Let go of the batch's records once its response is built (``result`` stays, for inspection).

        Powertools keeps a batch until the next one arrives, so a reused processor would hold the previous
        event while Lambda parses the next (two batches in memory) and free it inside the next invocation;
        released, the runtime frees it as soon as the handler returns.
        """
        self.records = []
        self.success_messages.clear()
        self.fail_messages.clear()
        self.exceptions.clear()
        self._failures = {}

    def _process_record(self, record: dict[str, Any]) -> SuccessResponse | FailureResponse:
        # Successes skip the per-record wrapper object; failures take Powertools' own path, whose record
        # handler raises the recorded error.
        if id(record) not in self._failures:
            return self.success_handler(record=record, result=None)
        return super()._process_record(record)

    def record_handler(self, record: DynamoDBRecord) -> None:
        """The per-record step: raise the failure the bulk step recorded for this record, if any."""
        failure = self._failures.get(id(record.raw_event))
        if failure is not None:
            raise failure
