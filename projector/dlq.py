"""The dead-letter queue for poison records: the full stream record and the error, as JSON, in SQS.

Message body (one per record)::

    {"error": {"code", "reason", "status"}, "record": <the stream record as Lambda delivered it>,
     "entity", "doc_id", "version", "index", "function": {"name", "request_id"}, "truncated": false}

The queue takes at most ``MAX_MESSAGE_BYTES`` per message (its ``max_message_size``, 256 KiB: see below),
and a batch call no more in total. A record too large for that (an item is up to 400 KB, and a MODIFY
carries two images) keeps everything but its images and says ``"truncated": true``; should that still be
too large, only what identifies the record stays (event id and name, source ARN, ``Keys``,
``SequenceNumber``, the error with its reason cut). ``Keys`` and ``SequenceNumber`` identify the item, so a
redrive re-reads it from the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# The queues' max_message_size (terraform/definitions/queues.json, drift-tested; SQS's default, and the
# most provider 5.100 accepts). SQS counts message attributes toward it too; dead letters carry none.
MAX_MESSAGE_BYTES = 262_144
_BATCH = 10
_MAX_CUT_REASON = 1000
_IDENTIFYING = ("eventID", "eventName", "eventSource", "eventSourceARN", "awsRegion")
_IDENTIFYING_CHANGE = ("Keys", "SequenceNumber", "ApproximateCreationDateTime", "StreamViewType")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: dict[str, Any]
    code: str
    reason: str
    status: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """Extra fields for the message: entity, doc_id, version, index, function."""

    def body(self, limit: int = MAX_MESSAGE_BYTES) -> str:
        message: dict[str, Any] = {
            "error": {"code": self.code, "reason": self.reason, "status": self.status},
            "record": self.record,
            **self.context,
            "truncated": False,
        }
        text = json.dumps(message, default=str, ensure_ascii=False)
        if len(text.encode()) <= limit:
            return text
        stream = dict(self.record.get("dynamodb") or {})
        stream.pop("NewImage", None)
        stream.pop("OldImage", None)
        message["record"] = {**self.record, "dynamodb": stream}
        message["truncated"] = True
        text = json.dumps(message, default=str, ensure_ascii=False)
        if len(text.encode()) <= limit:
            return text
        # Something else is large (a long error reason, unknown extra fields): keep what identifies it.
        record: dict[str, Any] = {key: self.record[key] for key in _IDENTIFYING if key in self.record}
        record["dynamodb"] = {key: stream[key] for key in _IDENTIFYING_CHANGE if key in stream}
        message["record"] = record
        message["error"] = {"code": self.code, "reason": self.reason[:_MAX_CUT_REASON], "status": self.status}
        return json.dumps(message, default=str, ensure_ascii=False)


def sqs_client_for(queue_url: str) -> Any:
    """A boto3 SQS client for the queue (local queues get their own endpoint; imported lazily)."""
    import boto3
    from botocore.config import Config

    parts = urlsplit(queue_url)
    host = parts.hostname or ""
    region: str | None = None
    endpoint: str | None = None
    if host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        labels = host.split(".")
        region = labels[1] if labels[0] == "sqs" and len(labels) > 3 else None
    else:
        endpoint = f"{parts.scheme}://{parts.netloc}"
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("sqs", region_name=region, endpoint_url=endpoint, config=config)


class DeadLetterQueue:
    """Sends dead letters in batches of ten; reports per letter whether it was accepted."""

    def __init__(self, queue_url: str, client_factory: Callable[[str], Any] = sqs_client_for) -> None:
        self.queue_url = queue_url
        self._client_factory = client_factory
        self._client: Any = None

    def send(self, letters: Sequence[DeadLetter]) -> list[str | None]:
        """Send every letter; return None for each accepted one, else the error text (never raises)."""
        errors: list[str | None] = ["not sent"] * len(letters)
        for start in range(0, len(letters), _BATCH):
            group = list(range(start, min(start + _BATCH, len(letters))))
            bodies = {position: letters[position].body() for position in group}
            # Keep each call's total within the limit too: split the group when it is larger.
            batches: list[list[int]] = [[]]
            size = 0
            for position in group:
                length = len(bodies[position].encode())
                if batches[-1] and size + length > MAX_MESSAGE_BYTES:
                    batches.append([])
                    size = 0
                batches[-1].append(position)
                size += length
            for batch in batches:
                self._send_batch(batch, bodies, errors)
        return errors

    def _send_batch(self, batch: list[int], bodies: dict[int, str], errors: list[str | None]) -> None:
        try:
            if self._client is None:
                self._client = self._client_factory(self.queue_url)
            answer = self._client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(position), "MessageBody": bodies[position]} for position in batch],
            )
        except Exception as exc:  # any botocore/network error: the records must be reported failed
            for position in batch:
                errors[position] = f"{type(exc).__name__}: {exc}"
            return
        for entry in answer.get("Successful", []):
            errors[int(entry["Id"])] = None
        for entry in answer.get("Failed", []):
            errors[int(entry["Id"])] = f"{entry.get('Code')}: {entry.get('Message')}"
