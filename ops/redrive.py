"""Redrive: project the items named by dead-letter messages as they are *now*, then delete the messages.

Two kinds of message arrive in the queues:

* **poison** (the projector's DLQ, see projector/README.md): the stream record and the error. Its `Keys`
  name the item; for a REMOVE its `OldImage` gives the deleted version.
* **on-failure** (the event source mapping's destination): metadata only, a shard id and a sequence range
  (`DDBStreamBatchInfo`). The range is read again from the stream for its keys; once the stream has
  trimmed it (after 24 h) the keys are gone, and the fallback is a reconcile --repair of the whole table,
  which re-projects by key whatever drifted.

Every key is re-read from the table with a consistent read, never taken from the stale payload: an item
that exists is projected with its current version; an absent one gets a tombstone one version above
anything known of it (the REMOVE's old version, the indexed document's). A message is deleted only when
every one of its keys was written, found stale (OpenSearch already newer) or needed nothing. With
`dry_run` nothing is written or deleted and the plan is returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ParamValidationError

from ops.errors import DeadLetterError
from ops.indices import alias_indices, get_versions
from ops.writer import ProjectionWriter
from projector.documents import Projection, project_item, project_tombstone
from projector.entities import Entity
from projector.exceptions import PoisonRecordError
from projector.identity import doc_id_of, entity_of
from stackclient.lambda_wire import wire_item

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

Key = tuple[tuple[str, str], ...]  # hashable (pk, sk) in wire text form
_RANGE_GONE = (
    "TrimmedDataAccessException",
    "ExpiredIteratorException",
    "ResourceNotFoundException",
    "ValidationException",
)


@dataclass
class KeyRef:
    """An item a message names, and the highest version known of it from the message (REMOVE old image)."""

    key: dict[str, Any]
    known_version: int = 0

    @property
    def hashable(self) -> Key:
        return tuple(sorted((name, json.dumps(value, sort_keys=True)) for name, value in self.key.items()))


@dataclass
class Message:
    """One dead-letter message, understood."""

    queue_url: str
    message_id: str
    receipt_handle: str
    kind: str  # "poison" | "on-failure"
    keys: list[KeyRef] = field(default_factory=list)
    range_unavailable: bool = False
    error: str = ""


@dataclass
class RedriveReport:
    received: int = 0
    deleted: int = 0
    kept: int = 0
    keys: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    plan: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    reconciled: bool = False

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "deleted": self.deleted,
            "kept": self.kept,
            "keys": self.keys,
            "outcomes": self.outcomes,
            "reconcile_fallback": self.reconciled,
            "plan": self.plan,
            "problems": self.problems,
        }

    def text(self, dry_run: bool) -> str:
        verb = "would delete" if dry_run else "deleted"
        lines = [
            f"messages: {self.received} received, {verb} {self.deleted}, kept {self.kept}",
            f"items:    {self.keys} re-read from the table: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "none"),
        ]
        if self.reconciled:
            lines.append("stream range no longer available for some messages: ran reconcile --repair instead")
        if dry_run:
            lines.extend(f"  {p['key']}: {p['action']}" for p in self.plan[:50])
        lines.extend(f"  kept: {problem}" for problem in self.problems[:50])
        return "\n".join(lines)


def parse_body(body: str) -> tuple[str, dict[str, Any]]:
    """Which kind a message body is, and its JSON; DeadLetterError for anything else."""
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise DeadLetterError(f"message is not JSON: {body[:80]!r}") from exc
    if isinstance(message, dict) and isinstance(message.get("record"), dict):
        return "poison", message
    if isinstance(message, dict) and isinstance(message.get("DDBStreamBatchInfo"), dict):
        return "on-failure", message
    raise DeadLetterError("message is neither a projector dead letter nor a Lambda on-failure record")


def keys_of_record(record: Mapping[str, Any]) -> KeyRef:
    """The item a stream record is about; a REMOVE also tells the deleted version."""
    stream = record.get("dynamodb") or {}
    keys = stream.get("Keys")
    if not isinstance(keys, dict) or not keys:
        raise DeadLetterError("stream record has no Keys")
    known = 0
    old = stream.get("OldImage")
    if record.get("eventName") == "REMOVE" and isinstance(old, dict):
        text = (old.get("version") or {}).get("N")
        known = int(text) if isinstance(text, str) and text.isdigit() else 0
    return KeyRef(dict(keys), known)


def read_stream_range(streams: Any, info: Mapping[str, Any]) -> list[KeyRef]:
    """Every record of a shard between two sequence numbers (inclusive), as key references.

    Raises
    ------
    LookupError
        The range is no longer in the stream (trimmed after 24 h, or the stream is gone).
    """
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        ).get("ShardIterator")
        refs: list[KeyRef] = []
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            for record in records:
                number = int(record["dynamodb"]["SequenceNumber"])
                if number > end:
                    return refs
                if number >= start:
                    refs.append(keys_of_record(record))
            if not records:
                return refs  # the open end of the shard: nothing after it yet
            iterator = page.get("NextShardIterator")
        return refs
    except ParamValidationError as exc:
        raise DeadLetterError(f"on-failure message holds an invalid shard range: {exc}") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _RANGE_GONE:
            raise LookupError(f"{code}: {exc}") from exc
        raise


def understand(queue_url: str, raw: Mapping[str, Any], streams: Any) -> Message:
    message = Message(queue_url, raw["MessageId"], raw["ReceiptHandle"], kind="?")
    try:
        kind, body = parse_body(raw["Body"])
        message.kind = kind
        if kind == "poison":
            message.keys = [keys_of_record(body["record"])]
        else:
            try:
                message.keys = read_stream_range(streams, body["DDBStreamBatchInfo"])
            except LookupError as exc:
                message.range_unavailable = True
                message.error = str(exc)
    except (DeadLetterError, KeyError, TypeError, ValueError) as exc:
        message.error = f"{type(exc).__name__}: {exc}"
    return message


class Redriver:
    """Re-projects the items dead-letter messages name; see the module docstring."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        sqs: Any,
        streams: Any,
        search: OpenSearch,
        writer: ProjectionWriter,
        prefix: str = "",
        reconcile_fallback: Callable[[], bool] | None = None,
        visibility_timeout: int = 120,
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.sqs = sqs
        self.streams = streams
        self.search = search
        self.writer = writer
        self.prefix = prefix
        self.reconcile_fallback = reconcile_fallback
        self.visibility_timeout = visibility_timeout

    def receive(self, queue_url: str, limit: int) -> list[Message]:
        """Take up to `limit` messages (each once: they stay invisible while we work on them)."""
        messages: list[Message] = []
        seen: set[str] = set()
        while len(messages) < limit:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(10, limit - len(messages)),
                VisibilityTimeout=self.visibility_timeout,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [raw for raw in batch if raw["MessageId"] not in seen]
            if not fresh:
                break
            for raw in fresh:
                seen.add(raw["MessageId"])
                messages.append(understand(queue_url, raw, self.streams))
        return messages

    def run(self, queue_urls: list[str], dry_run: bool = False, limit: int = 10_000) -> RedriveReport:
        report = RedriveReport()
        messages = [message for url in queue_urls for message in self.receive(url, limit)]
        report.received = len(messages)
        refs: dict[Key, KeyRef] = {}
        for message in messages:
            for ref in message.keys:
                known = refs.setdefault(ref.hashable, KeyRef(ref.key))
                known.known_version = max(known.known_version, ref.known_version)
        report.keys = len(refs)
        succeeded = self._project(list(refs.values()), report, dry_run)
        needs_fallback = [m for m in messages if m.range_unavailable]
        fallback_ok = False
        if needs_fallback and self.reconcile_fallback is not None and not dry_run:
            fallback_ok = self.reconcile_fallback()
            report.reconciled = True
        for message in messages:
            ok = not message.error or (message.range_unavailable and fallback_ok)
            ok = ok and all(succeeded.get(ref.hashable, False) for ref in message.keys)
            if ok:
                report.deleted += 1
                if not dry_run:
                    self.sqs.delete_message(QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle)
            else:
                report.kept += 1
                if message.error:
                    report.problems.append(f"{message.kind} message {message.message_id}: {message.error}")
            if dry_run or not ok:
                # Put it back at once: a dry run or a failed one must not hide it for the visibility timeout.
                self.sqs.change_message_visibility(
                    QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
                )
        return report

    def _project(self, refs: list[KeyRef], report: RedriveReport, dry_run: bool) -> dict[Key, bool]:
        """Re-read each key and write what it is now; True per key that is settled."""
        succeeded: dict[Key, bool] = {}
        projections: list[tuple[Key, Projection]] = []
        absent: list[tuple[KeyRef, Entity, str]] = []
        for ref in refs:
            item = self.dynamodb.get_item(TableName=self.table_name, Key=ref.key, ConsistentRead=True).get(
                "Item"
            )
            label = "|".join(str(value.get("S", value)) for value in ref.key.values())
            if item is not None:
                try:
                    projection = project_item(wire_item(item))
                except PoisonRecordError as exc:
                    report.count("still_poison")
                    report.problems.append(f"{label}: still cannot be projected: {exc.code}: {exc.reason}")
                    succeeded[ref.hashable] = False
                    continue
                if projection is None:
                    report.count("not_projected")
                    succeeded[ref.hashable] = True
                    continue
                projections.append((ref.hashable, projection))
                report.plan.append({"key": label, "action": f"project version {projection.version}"})
                continue
            entity = entity_of(ref.key)
            if entity is None:
                report.count("not_projected")
                succeeded[ref.hashable] = True
                continue
            absent.append((ref, entity, doc_id_of(entity, ref.key)))
        # Absent items: a tombstone above both the deleted version and whatever the index still shows.
        indices: dict[str, list[str]] = {}
        for ref, entity, doc_id in absent:
            shown = 0
            if entity.name not in indices:
                indices[entity.name] = alias_indices(self.search, entity.write_alias(self.prefix))
            for index in indices[entity.name]:
                doc = get_versions(self.search, index, [doc_id]).get(doc_id)
                if doc is not None and not doc.tombstone:
                    shown = max(shown, doc.version)
            label = f"{entity.name} {doc_id}"
            base = max(shown, ref.known_version)
            if base == 0:
                report.count("nothing_to_do")
                report.plan.append({"key": label, "action": "deleted, nothing searchable: nothing to do"})
                succeeded[ref.hashable] = True
                continue
            old = {"id": {"S": doc_id}, "type": {"S": entity.name}, "version": {"N": str(base)}}
            tombstone = project_tombstone(old)
            if tombstone is not None:
                projections.append((ref.hashable, tombstone))
                report.plan.append({"key": label, "action": f"tombstone at version {tombstone.version}"})
        if dry_run:
            for key, _ in projections:
                succeeded[key] = True
            report.outcomes["planned"] = len(projections)
            return succeeded
        names = {projection.entity.name: projection.entity for _, projection in projections}
        self.writer.targets = {
            name: alias_indices(self.search, entity.write_alias(self.prefix))
            for name, entity in names.items()
        }
        tally, settled = self.writer.write_each([projection for _, projection in projections])
        for outcome, count in tally.counts().items():
            if count:
                report.outcomes[outcome] = report.outcomes.get(outcome, 0) + count
        report.problems.extend(f"{r['key']}: {r['code']}: {r['reason']}" for r in tally.rejects)
        for (key, _), ok in zip(projections, settled, strict=True):
            succeeded[key] = ok
        return succeeded
