"""One batch of stream records → OpenSearch: project, collapse, bulk write, dead-letter, outcomes.

A record is reported failed unless its effect, or a newer effect for the same key, is durable in
OpenSearch (or the record is safely in the dead-letter queue). :meth:`StreamProjector.project` takes a
batch and returns what happened to it; the projector keeps nothing of one batch for the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from projector.aliases import AliasResolver
from projector.bulk import (
    BulkResult,
    BulkStats,
    BulkWriter,
    ItemResult,
    Outcome,
    action_line,
    encode_document,
)
from projector.dlq import DeadLetter, DeadLetterQueue
from projector.documents import document_of, tombstone_document
from projector.entities import LISTING, Entity
from projector.exceptions import AliasMissingError, PoisonRecordError, ProjectorError, RetryableError
from projector.identity import Identity, identify, is_ttl_delete
from projector.signal import Signal

_ALIAS_ATTEMPTS = 3
_NUMBERS = (int, float)
_SEVERITY = {Outcome.STALE: 0, Outcome.INDEXED: 1, Outcome.DELETED: 1, Outcome.POISON: 2, Outcome.FAILED: 3}
"""How one document's outcomes across several indices combine: stale only if stale everywhere."""
_WRITTEN = (Outcome.INDEXED, Outcome.DELETED)
"""A tuple, looked up per document: reading an Enum member off its class is slower than a local."""
_NOTHING_SENT = BulkResult([], BulkStats())


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What happened to one batch: the failed record positions, the dead letters sent, the counters."""

    records: int
    failures: Mapping[int, RetryableError]
    """Records to report in ``batchItemFailures``, by position, and why."""
    dead_letters: tuple[tuple[int, DeadLetter], ...]
    """Poison records now in the dead-letter queue, by position."""
    bulk: BulkStats
    indexed: int = 0
    deleted: int = 0
    ttl_deleted: int = 0
    stale: int = 0
    skipped: int = 0
    collapsed: int = 0
    max_lag_ms: float | None = None
    signals: tuple[Signal, ...] = ()
    """Listings this batch newly indexed or deleted (stale replays excluded), when signals are on."""

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def poisoned(self) -> int:
        return len(self.dead_letters)

    @property
    def retried(self) -> int:
        return self.bulk.retried_items

    def counts(self) -> dict[str, int]:
        """The counters by metric name."""
        return {
            "records": self.records, "indexed": self.indexed, "deleted": self.deleted,
            "ttl_deleted": self.ttl_deleted, "stale": self.stale, "poisoned": self.poisoned,
            "skipped": self.skipped, "collapsed": self.collapsed, "retried": self.retried,
            "failed": self.failed,
        }  # fmt: skip


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


class _Poison(NamedTuple):
    """A record for the dead-letter queue; ``members`` fail in its place if the queue does not take it."""

    position: int
    members: Sequence[int]
    code: str
    reason: str
    status: int | None
    target: str | None = None
    """The index that refused it, if OpenSearch did."""


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """A batch after projection and collapse: one group per document key, the poison records, counters."""

    groups: list[_Group]
    poison: list[_Poison]
    skipped: int
    collapsed: int
    ttl_deleted: int
    max_lag_ms: float | None


class _Written(NamedTuple):
    """What the bulk step did to the groups."""

    indexed: int
    deleted: int
    stale: int
    failures: dict[int, RetryableError]
    poison: list[_Poison]
    bulk: BulkStats
    index_gone: bool
    """An index behind an alias no longer exists: the alias moved."""
    listings: list[_Group]
    """Listing groups newly written (indexed or deleted), collected only when signals are on."""


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
    clock:
        Wall clock in epoch seconds (projection lag).
    safety_margin_seconds:
        Time left for the dead-letter queue and the response after the last OpenSearch request.
    signals:
        Collect the listings each batch newly wrote (:attr:`BatchResult.signals`, the projection signal).
    """

    def __init__(
        self,
        writer: BulkWriter,
        aliases: AliasResolver,
        dlq: DeadLetterQueue,
        index_prefix: str = "",
        clock: Callable[[], float] = time.time,
        safety_margin_seconds: float = 2.0,
        signals: bool = False,
    ) -> None:
        self.signals = signals
        self.writer = writer
        self.aliases = aliases
        self.dlq = dlq
        self.index_prefix = index_prefix
        self.safety_margin_seconds = safety_margin_seconds
        self._clock = clock

    def project(self, records: Sequence[dict[str, Any]], context: Any = None) -> BatchResult:
        """Project ``records``, within the time the Lambda ``context`` has left (no limit without one).

        The context also names the function in dead letters (``function_name``, ``aws_request_id``).
        """
        deadline = self._deadline(context)
        plan = self.plan(records)
        written = self._write(plan.groups, deadline)
        if written.index_gone:
            self.aliases.invalidate()
        function = {
            "name": getattr(context, "function_name", None),
            "request_id": getattr(context, "aws_request_id", None),
        }
        dead_letters, undelivered = self._dead_letter([*plan.poison, *written.poison], records, function)
        return BatchResult(
            records=len(records),
            failures={**written.failures, **undelivered} if undelivered else written.failures,
            dead_letters=dead_letters,
            bulk=written.bulk,
            indexed=written.indexed,
            deleted=written.deleted,
            ttl_deleted=plan.ttl_deleted,
            stale=written.stale,
            skipped=plan.skipped,
            collapsed=plan.collapsed,
            max_lag_ms=plan.max_lag_ms,
            signals=tuple(_signals(written.listings, records)) if written.listings else (),
        )

    def _deadline(self, context: Any) -> float | None:
        """The ``time.monotonic()`` instant OpenSearch work must stop: the time left minus the margin."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return None
        seconds = float(remaining()) / 1000.0 - self.safety_margin_seconds
        return time.monotonic() + max(0.0, seconds)

    def plan(self, records: Sequence[dict[str, Any]]) -> BatchPlan:
        """Project and collapse ``records`` without any I/O: what :meth:`project` will write.

        Records are collapsed by key before their fields are converted: a record superseded within the
        batch costs no conversion (and, if it is malformed, it is not dead-lettered: its state is gone).
        """
        poison: list[_Poison] = []
        skipped = collapsed = ttl_deleted = 0
        identities: dict[int, Identity] = {}  # by position
        first_of: dict[tuple[str, str], int] = {}  # each key's first record
        all_of: dict[tuple[str, str], list[int]] = {}  # every record of the keys that have several
        for position, record in enumerate(records):
            try:
                identity = identify(record)
            except PoisonRecordError as exc:
                poison.append(_Poison(position, (position,), exc.code, exc.reason, exc.status))
                continue
            if identity is None:
                skipped += 1
                continue
            identities[position] = identity
            key = (identity[0].name, identity[1])
            first = first_of.setdefault(key, position)
            if first != position:
                all_of.setdefault(key, [first]).append(position)
                collapsed += 1
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
                entity, doc_id, version, image, tombstone = identities[position]
                record = records[position]
                try:
                    # A tombstone is dated by its record, so a retried one is identical.
                    if tombstone:
                        created = record["dynamodb"].get("ApproximateCreationDateTime")
                        document = tombstone_document(doc_id, created)
                    else:
                        document = document_of(entity, image, doc_id, version)
                except PoisonRecordError as exc:
                    # The newest state cannot be projected: it goes to the dead-letter queue and the next
                    # newest is written in its place (still newer than what OpenSearch has).
                    poison.append(_Poison(position, (position,), exc.code, exc.reason, exc.status))
                    members = [member for member in members if member != position]
                    continue
                if tombstone and is_ttl_delete(record):
                    ttl_deleted += 1
                groups.append(_Group(entity, doc_id, version, document, tombstone, position, members))
                break
        return BatchPlan(groups, poison, skipped, collapsed, ttl_deleted, self._lag_ms(records))

    def _lag_ms(self, records: Sequence[dict[str, Any]]) -> float | None:
        """Projection lag of the batch's first record with a time (a shard's records arrive in order)."""
        for record in records:
            stream = record.get("dynamodb")
            created = stream.get("ApproximateCreationDateTime") if isinstance(stream, dict) else None
            if created.__class__ in _NUMBERS:
                return max(0.0, self._clock() * 1000.0 - created * 1000.0)
        return None

    def _write(self, groups: list[_Group], deadline: float | None) -> _Written:
        """Resolve each group's indices, encode its action lines, write them, interpret the outcomes."""
        targets = self._targets(groups, deadline)
        lines: list[bytes] = []
        owners: list[tuple[_Group, str]] = []  # the group and index of each line
        encoded = 0
        for group in groups:
            indices = targets[group.entity.name]
            if isinstance(indices, RetryableError):
                continue
            source = encode_document(group.document)
            encoded += 1
            for index in indices:
                lines.append(action_line(index, group.doc_id, group.version, source))
                owners.append((group, index))
        written = self.writer.write_lines(lines, deadline) if lines else _NOTHING_SENT
        return _interpret(
            groups, targets, owners, written, one_line_each=len(owners) == encoded, collect=self.signals
        )

    def _targets(
        self, groups: list[_Group], deadline: float | None
    ) -> dict[str, tuple[str, ...] | RetryableError]:
        """Each entity's concrete indices (or why they are unknown), by entity name."""
        targets: dict[str, tuple[str, ...] | RetryableError] = {}
        for group in groups:
            entity = group.entity
            if entity.name not in targets:
                targets[entity.name] = self._resolve(entity.write_alias(self.index_prefix), deadline)
        return targets

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

    def _dead_letter(
        self, poison: list[_Poison], records: Sequence[dict[str, Any]], function: dict[str, Any]
    ) -> tuple[tuple[tuple[int, DeadLetter], ...], dict[int, RetryableError]]:
        """Send the poison records; return those the queue took, and failures for the members of the rest."""
        if not poison:
            return (), {}
        letters = []
        for entry in poison:
            record = records[entry.position]
            context = _describe(record)
            if entry.target is not None:
                context["index"] = entry.target
            context["function"] = function
            letters.append(DeadLetter(record, entry.code, entry.reason, entry.status, context))
        sent: list[tuple[int, DeadLetter]] = []
        undelivered: dict[int, RetryableError] = {}
        for entry, letter, error in zip(poison, letters, self.dlq.send(letters), strict=True):
            if error is None:
                sent.append((entry.position, letter))
                continue
            failure = RetryableError(
                "dead_letter_queue_unavailable", f"{letter.code} record not dead-lettered: {error}"
            )
            for member in entry.members:
                undelivered[member] = failure
        return tuple(sent), undelivered


def _interpret(
    groups: list[_Group],
    targets: Mapping[str, tuple[str, ...] | RetryableError],
    owners: list[tuple[_Group, str]],
    written: BulkResult,
    one_line_each: bool,
    collect: bool = False,
) -> _Written:
    """What each group's outcome means for its records: counted, failed (Lambda retries them) or poison.

    The one place outcomes become record fates; :func:`projector.bulk.outcome_of` is the one place item
    statuses become outcomes.
    """
    failures: dict[int, RetryableError] = {}
    poison: list[_Poison] = []
    if any(isinstance(indices, RetryableError) for indices in targets.values()):
        for group in groups:
            unresolved = targets[group.entity.name]
            if isinstance(unresolved, RetryableError):
                for position in group.members:
                    failures[position] = unresolved
    index_gone = False
    stale = tombstones = indexed = 0
    listings: list[_Group] = []
    for (group, index), item in _verdicts(owners, written.items, one_line_each):
        outcome = item.outcome
        if outcome in _WRITTEN:
            if group.tombstone:
                tombstones += 1
            else:
                indexed += 1
            if collect and group.entity is LISTING:
                listings.append(group)
        elif outcome is Outcome.STALE:
            stale += 1
        elif outcome is Outcome.FAILED:
            index_gone = index_gone or item.error_type == "index_not_found_exception"
            failure = RetryableError(item.error_type or "failed", item.reason or "", item.status)
            for position in group.members:
                failures[position] = failure
        else:
            poison.append(
                _Poison(
                    group.position, group.members, item.error_type or "rejected", item.reason or "",
                    item.status, index,
                )
            )  # fmt: skip
    return _Written(indexed, tombstones, stale, failures, poison, written.stats, index_gone, listings)


def _signals(listings: list[_Group], records: Sequence[dict[str, Any]]) -> Iterable[Signal]:
    """The projection signal of each newly written listing. A tombstone carries no owner: the deleted
    item's image has it. A listing without a text owner (it cannot be routed to anyone) sends nothing."""
    for group in listings:
        if group.tombstone:
            stream = records[group.position].get("dynamodb") or {}
            owner = ((stream.get("OldImage") or {}).get("owner") or {}).get("S")
            # A tombstone is written at the deleted version + 1 (projector/documents.py).
            version = group.version - 1
        else:
            owner = group.document.get("owner")
            version = group.version
        if isinstance(owner, str):
            yield Signal(group.doc_id, owner, version, group.tombstone)


def _describe(record: dict[str, Any]) -> dict[str, Any]:
    stream = record.get("dynamodb")
    return {
        "sequence_number": stream.get("SequenceNumber") if isinstance(stream, dict) else None,
        "event_name": record.get("eventName"),
    }


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.05, deadline - time.monotonic())


def _verdicts(
    owners: list[tuple[_Group, str]], outcomes: list[ItemResult], one_line_each: bool
) -> Iterable[tuple[tuple[_Group, str], ItemResult]]:
    """One outcome per group. A group with several lines (a reindex writes old and new index) takes the
    most severe of them: stale only if stale everywhere, failed if failed anywhere."""
    if one_line_each:
        return zip(owners, outcomes, strict=True)  # one index per alias: the usual case
    verdicts: dict[int, tuple[tuple[_Group, str], ItemResult]] = {}
    for owner, item in zip(owners, outcomes, strict=True):
        current = verdicts.get(id(owner[0]))
        if current is None or _SEVERITY[item.outcome] > _SEVERITY[current[1].outcome]:
            verdicts[id(owner[0])] = (owner, item)
    return verdicts.values()
