"""One batch of stream records → OpenSearch: project, collapse, bulk write, dead-letter, outcomes.

A record is reported failed unless its effect, or a newer effect for the same key, is durable in
OpenSearch (or the record is safely in the dead-letter queue).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from projector.aliases import AliasResolver
from projector.bulk import BulkAction, BulkWriter, ItemResult, Outcome, encode_document
from projector.dlq import DeadLetter, DeadLetterQueue
from projector.exceptions import AliasMissingError, PoisonRecordError, ProjectorError, RetryableError
from projector.rules import Projection, is_ttl_delete, project_record

_ALIAS_ATTEMPTS = 3
_NUMBERS = (int, float)
_SEVERITY = {Outcome.STALE: 0, Outcome.INDEXED: 1, Outcome.DELETED: 1, Outcome.POISON: 2, Outcome.FAILED: 3}
"""How one document's outcomes across several indices combine: stale only if stale everywhere."""


@dataclass(slots=True)
class BatchResult:
    """What happened to one batch: the failed record positions and counters for metrics."""

    failures: dict[int, RetryableError] = field(default_factory=dict)
    records: int = 0
    indexed: int = 0
    deleted: int = 0
    ttl_deleted: int = 0
    stale: int = 0
    poisoned: int = 0
    skipped: int = 0
    collapsed: int = 0
    retried: int = 0
    bulk_latencies_ms: list[float] = field(default_factory=list)
    max_lag_ms: float | None = None
    dead_letters: list[tuple[int, DeadLetter]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


@dataclass(slots=True)
class _Group:
    """All records of one document key in this batch; ``projection`` (from ``position``) is written."""

    projection: Projection
    position: int
    members: list[int]


@dataclass(slots=True)
class BatchPlan:
    """A batch after projection and collapse: one group per document key, and the poison records."""

    groups: list[_Group]
    poison: list[tuple[int, DeadLetter]]
    result: BatchResult


class StreamProjector:
    """Projects batches of DynamoDB stream records (Lambda's event shape) into OpenSearch.

    Parameters
    ----------
    writer:
        The bounded bulk writer.
    aliases:
        Resolves write aliases to concrete indices.
    dlq:
        Receives poison records.
    index_prefix:
        Prefix of every index and alias name (empty in production).
    function_info:
        Added to every dead letter as ``function`` (name, request id).
    clock:
        Wall clock in epoch seconds (projection lag).
    """

    def __init__(
        self,
        writer: BulkWriter,
        aliases: AliasResolver,
        dlq: DeadLetterQueue,
        index_prefix: str = "",
        function_info: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = writer
        self.aliases = aliases
        self.dlq = dlq
        self.index_prefix = index_prefix
        self.function_info = function_info or {}
        self._clock = clock
        self._members: dict[int, list[int]] = {}

    def project(self, records: Sequence[dict[str, Any]], deadline: float | None = None) -> BatchResult:
        """Project ``records``; ``deadline`` is a ``time.monotonic()`` instant for the OpenSearch work."""
        plan = self.plan(records)
        self._members = {}
        self._write(plan.groups, records, deadline, plan.result, plan.poison)
        self._dead_letter(plan.poison, records, plan.result)
        return plan.result

    def plan(self, records: Sequence[dict[str, Any]]) -> BatchPlan:
        """Project and collapse ``records`` without any I/O: what :meth:`project` will write."""
        result = BatchResult(records=len(records))
        groups: dict[tuple[str, str], _Group] = {}
        poison: list[tuple[int, DeadLetter]] = []
        oldest: float | None = None
        for position, record in enumerate(records):
            stream = record.get("dynamodb")
            created = stream.get("ApproximateCreationDateTime") if isinstance(stream, dict) else None
            if created.__class__ in _NUMBERS and (oldest is None or created < oldest):
                oldest = created
            try:
                projection = project_record(record)
            except PoisonRecordError as exc:
                poison.append((position, DeadLetter(record, exc.code, exc.reason, exc.status)))
                continue
            if projection is None:
                result.skipped += 1
                continue
            if projection.tombstone and is_ttl_delete(record):
                result.ttl_deleted += 1
            key = (projection.entity.name, projection.doc_id)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(projection, position, [position])
                continue
            # Collapse: the newest version is the item's state; equal versions: the later record.
            group.members.append(position)
            result.collapsed += 1
            if projection.version >= group.projection.version:
                group.projection = projection
                group.position = position
        if oldest is not None:
            result.max_lag_ms = max(0.0, self._clock() * 1000.0 - oldest * 1000.0)
        return BatchPlan(list(groups.values()), poison, result)

    def _write(
        self,
        groups: list[_Group],
        records: Sequence[dict[str, Any]],
        deadline: float | None,
        result: BatchResult,
        poison: list[tuple[int, DeadLetter]],
    ) -> None:
        actions: list[BulkAction] = []
        owners: list[int] = []  # group number of each action
        indices_of: dict[str, tuple[str, ...] | RetryableError] = {}  # by entity name
        for number, group in enumerate(groups):
            projection = group.projection
            entity = projection.entity
            targets = indices_of.get(entity.name)
            if targets is None:
                alias = entity.write_alias(self.index_prefix)
                targets = indices_of[entity.name] = self._resolve(alias, deadline)
            if isinstance(targets, RetryableError):
                self._fail(group, targets, result)
                continue
            source = encode_document(projection.document)
            for index in targets:
                actions.append(BulkAction(index, projection.doc_id, projection.version, None, source))
                owners.append(number)
        outcomes = self.writer.write(actions, deadline) if actions else []
        if actions:
            result.bulk_latencies_ms.extend(self.writer.stats.latencies_ms)
            result.retried += self.writer.stats.retried_items
        # One verdict per group, from its actions (one per index behind the alias): the most severe wins.
        verdicts: dict[int, tuple[BulkAction, ItemResult]] = {}
        for action, number, written in zip(actions, owners, outcomes, strict=True):
            current = verdicts.get(number)
            if current is None or _SEVERITY[written.outcome] > _SEVERITY[current[1].outcome]:
                verdicts[number] = (action, written)
        stale_index = False
        for number, (action, item) in verdicts.items():
            group = groups[number]
            outcome = item.outcome
            if outcome is Outcome.INDEXED or outcome is Outcome.DELETED:
                if group.projection.tombstone:
                    result.deleted += 1
                else:
                    result.indexed += 1
            elif outcome is Outcome.STALE:
                result.stale += 1
            elif outcome is Outcome.FAILED:
                if item.error_type == "index_not_found_exception":
                    stale_index = True
                failure = RetryableError(item.error_type or "failed", item.reason or "", item.status)
                self._fail(group, failure, result)
            else:
                letter = DeadLetter(
                    records[group.position],
                    item.error_type or "rejected",
                    item.reason or "",
                    item.status,
                    {"index": action.index},
                )
                poison.append((group.position, letter))
                self._members[group.position] = group.members
        if stale_index:
            self.aliases.invalidate()

    def _resolve(self, alias: str, deadline: float | None) -> tuple[str, ...] | RetryableError:
        """The write alias's indices, retrying transient errors a few times within the deadline."""
        retry = self.writer.retry
        error: ProjectorError | None = None
        for attempt in range(_ALIAS_ATTEMPTS):
            try:
                return self.aliases.indices(alias, timeout=_remaining(deadline))
            except AliasMissingError as exc:  # not transient: someone has to create it
                return RetryableError("alias_missing", str(exc))
            except ProjectorError as exc:
                error = exc
            pause = retry.delay(attempt)
            if deadline is not None and time.monotonic() + pause + retry.min_request_seconds > deadline:
                break
            time.sleep(pause)
        return RetryableError("alias_unavailable", str(error))

    def _fail(self, group: _Group, error: RetryableError, result: BatchResult) -> None:
        for position in group.members:
            result.failures[position] = error

    def _dead_letter(
        self, poison: list[tuple[int, DeadLetter]], records: Sequence[dict[str, Any]], result: BatchResult
    ) -> None:
        if not poison:
            return
        for _, letter in poison:
            letter.context = {**_describe(letter.record), **letter.context, "function": self.function_info}
        errors = self.dlq.send([letter for _, letter in poison])
        for (position, letter), error in zip(poison, errors, strict=True):
            if error is None:
                result.poisoned += 1
                result.dead_letters.append((position, letter))
            else:
                failure = RetryableError(
                    "dead_letter_queue_unavailable", f"{letter.code} record not dead-lettered: {error}"
                )
                for member in self._members.get(position, [position]):
                    result.failures[member] = failure


def _describe(record: dict[str, Any]) -> dict[str, Any]:
    stream = record.get("dynamodb")
    return {
        "sequence_number": stream.get("SequenceNumber") if isinstance(stream, dict) else None,
        "event_name": record.get("eventName"),
    }


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.05, deadline - time.monotonic())
