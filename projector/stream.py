"""One batch of stream records → OpenSearch: project, collapse, bulk write, dead-letter, outcomes.

A record is reported failed unless its effect, or a newer effect for the same key, is durable in
OpenSearch (or the record is safely in the dead-letter queue).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from projector.aliases import AliasResolver
from projector.bulk import BulkWriter, ItemResult, Outcome, action_line, encode_document
from projector.dlq import DeadLetter, DeadLetterQueue
from projector.documents import document_for
from projector.entities import Entity
from projector.exceptions import AliasMissingError, PoisonRecordError, ProjectorError, RetryableError
from projector.identity import Identity, identify, is_ttl_delete

_ALIAS_ATTEMPTS = 3
_NUMBERS = (int, float)
_SEVERITY = {Outcome.STALE: 0, Outcome.INDEXED: 1, Outcome.DELETED: 1, Outcome.POISON: 2, Outcome.FAILED: 3}
"""How one document's outcomes across several indices combine: stale only if stale everywhere."""
_WRITTEN = (Outcome.INDEXED, Outcome.DELETED)
"""A tuple, looked up per document: reading an Enum member off its class costs ~5x a plain attribute."""


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
    """All records of one document key in this batch, and what is written for them.

    ``position`` is the record whose state is written: the highest version, the later record on a tie.
    """

    entity: Entity
    doc_id: str
    version: int
    document: dict[str, Any]
    tombstone: bool
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
        """Project and collapse ``records`` without any I/O: what :meth:`project` will write.

        Records are collapsed by key before their fields are converted: a record superseded within the
        batch costs no conversion (and, if it is malformed, it is not dead-lettered: its state is gone).
        """
        result = BatchResult(records=len(records))
        poison: list[tuple[int, DeadLetter]] = []
        identities: dict[int, Identity] = {}  # by position
        first_of: dict[tuple[str, str], int] = {}  # each key's first record
        all_of: dict[tuple[str, str], list[int]] = {}  # every record of the keys that have several
        for position, record in enumerate(records):
            try:
                identity = identify(record)
            except PoisonRecordError as exc:
                poison.append((position, DeadLetter(record, exc.code, exc.reason, exc.status)))
                continue
            if identity is None:
                result.skipped += 1
                continue
            identities[position] = identity
            key = (identity[0].name, identity[1])
            first = first_of.setdefault(key, position)
            if first != position:
                all_of.setdefault(key, [first]).append(position)
                result.collapsed += 1
        # Each key writes its newest state that converts: the highest version, on a tie the later record.
        # (Inline rather than a helper per key: a batch has up to a thousand keys.)
        groups = []
        for key, first in first_of.items():
            members = all_of.get(key) or [first]
            newest_first = members
            if len(members) > 1:
                newest_first = sorted(
                    members, key=lambda position: (identities[position][2], position), reverse=True
                )
            for position in newest_first:
                identity = identities[position]
                record = records[position]
                try:
                    document = document_for(identity, record)
                except PoisonRecordError as exc:
                    # The newest state cannot be projected: it goes to the dead-letter queue and the next
                    # newest is written in its place (still newer than what OpenSearch has).
                    poison.append((position, DeadLetter(record, exc.code, exc.reason, exc.status)))
                    members = [member for member in members if member != position]
                    continue
                entity, doc_id, version, _, tombstone = identity
                if tombstone and is_ttl_delete(record):
                    result.ttl_deleted += 1
                groups.append(_Group(entity, doc_id, version, document, tombstone, position, members))
                break
        result.max_lag_ms = self._lag_ms(records)
        return BatchPlan(groups, poison, result)

    def _lag_ms(self, records: Sequence[dict[str, Any]]) -> float | None:
        """Projection lag of the batch's first record with a time (a shard's records arrive in order)."""
        for record in records:
            stream = record.get("dynamodb")
            created = stream.get("ApproximateCreationDateTime") if isinstance(stream, dict) else None
            if created.__class__ in _NUMBERS:
                return max(0.0, self._clock() * 1000.0 - created * 1000.0)
        return None

    def _write(
        self,
        groups: list[_Group],
        records: Sequence[dict[str, Any]],
        deadline: float | None,
        result: BatchResult,
        poison: list[tuple[int, DeadLetter]],
    ) -> None:
        lines: list[bytes] = []
        targets: list[tuple[_Group, str]] = []  # the group and index of each line
        indices_of: dict[str, tuple[str, ...] | RetryableError] = {}  # by entity name
        written = 0
        for group in groups:
            indices = indices_of.get(group.entity.name)
            if indices is None:
                alias = group.entity.write_alias(self.index_prefix)
                indices = indices_of[group.entity.name] = self._resolve(alias, deadline)
            if isinstance(indices, RetryableError):
                self._fail(group, indices, result)
                continue
            source = encode_document(group.document)
            written += 1
            for index in indices:
                lines.append(action_line(index, group.doc_id, group.version, source))
                targets.append((group, index))
        if not lines:
            return
        outcomes = self.writer.write_lines(lines, deadline)
        result.bulk_latencies_ms.extend(self.writer.stats.latencies_ms)
        result.retried += self.writer.stats.retried_items
        stale_index = False
        tombstones = indexed = 0
        for (group, index), item in _verdicts(targets, outcomes, one_line_each=len(targets) == written):
            outcome = item.outcome
            if outcome in _WRITTEN:
                if group.tombstone:
                    tombstones += 1
                else:
                    indexed += 1
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
                    {"index": index},
                )
                poison.append((group.position, letter))
                self._members[group.position] = group.members
        result.indexed += indexed
        result.deleted += tombstones
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


def _verdicts(
    targets: list[tuple[_Group, str]], outcomes: list[ItemResult], one_line_each: bool
) -> Iterable[tuple[tuple[_Group, str], ItemResult]]:
    """One outcome per group. A group with several lines (a reindex writes old and new index) takes the
    most severe of them: stale only if stale everywhere, failed if failed anywhere."""
    if one_line_each:
        return zip(targets, outcomes, strict=True)  # one index per alias: the usual case
    verdicts: dict[int, tuple[tuple[_Group, str], ItemResult]] = {}
    for target, item in zip(targets, outcomes, strict=True):
        current = verdicts.get(id(target[0]))
        if current is None or _SEVERITY[item.outcome] > _SEVERITY[current[1].outcome]:
            verdicts[id(target[0])] = (target, item)
    return verdicts.values()
