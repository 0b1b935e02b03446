"""Project table items with the projector's own rules and write them with its bounded, versioned bulk writer.

Backfill, reconcile --repair and redrive all end here, so an item is converted exactly as the stream
projector converts it, and every write carries the item's version: a write never regresses a newer
document (a 409 is counted as *stale*, not as an error).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from projector.bulk import BulkAction, BulkWriter, ItemResult, Outcome, encode_document
from projector.documents import Projection, project_item
from projector.entities import ENTITIES, Entity
from projector.exceptions import PoisonRecordError
from projector.transport import Transport

Item = Mapping[str, Any]  # DynamoDB wire form
Targets = Mapping[str, Sequence[str]]  # entity name -> concrete indices to write

MAX_REJECTS_KEPT = 50


@dataclass
class Tally:
    """What happened to the actions of one or more writes (an item written to two indices counts twice)."""

    written: int = 0
    stale: int = 0
    rejected: int = 0
    failed: int = 0
    skipped: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.written += other.written
        self.stale += other.stale
        self.rejected += other.rejected
        self.failed += other.failed
        self.skipped += other.skipped
        room = MAX_REJECTS_KEPT - len(self.rejects)
        self.rejects.extend(other.rejects[: max(room, 0)])

    def counts(self) -> dict[str, int]:
        return {
            "written": self.written,
            "stale": self.stale,
            "rejected": self.rejected,
            "failed": self.failed,
            "skipped": self.skipped,
        }

    def count(self, key: str, result: ItemResult) -> bool:
        """Count one action's result (`key` names it in rejects); True when it is settled (written or
        the index already had that version or a newer one)."""
        if result.outcome in (Outcome.INDEXED, Outcome.DELETED):
            self.written += 1
        elif result.outcome is Outcome.STALE:
            self.stale += 1
        elif result.outcome is Outcome.POISON:
            self._reject(key, result.error_type or "rejected", result.reason or "")
            return False
        else:
            self.failed += 1
            return False
        return True

    def _reject(self, key: str, code: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_REJECTS_KEPT:
            self.rejects.append({"key": key, "code": code, "reason": reason[:300]})


def entity_by_name(name: str) -> Entity:
    for entity in ENTITIES:
        if entity.name == name or entity.base == name:
            return entity
    raise KeyError(f"unknown entity {name!r}: one of {', '.join(e.name for e in ENTITIES)}")


def item_key(item: Item) -> str:
    """A readable key for messages: `pk|sk`."""
    return "|".join(str(item.get(name, {}).get("S", "?")) for name in ("pk", "sk"))


class ProjectionWriter:
    """Writes projections to the given concrete indices of each entity.

    Parameters
    ----------
    transport:
        The projector's OpenSearch transport.
    targets:
        Entity name → concrete indices; entities not named are skipped (e.g. a reindex of listings only).
    write_seconds:
        How long the bulk writer may retry 429s, 5xx and time-outs before an action counts as failed.
    """

    def __init__(
        self, transport: Transport, targets: Targets, write_seconds: float = 120.0, max_actions: int = 500
    ) -> None:
        self.transport = transport
        self.targets = {name: list(indices) for name, indices in targets.items()}
        self.write_seconds = write_seconds
        self.max_actions = max_actions

    def write_items(self, items: Iterable[Item]) -> Tally:
        """Project live items and write them; unprojectable items are counted as rejected."""
        tally = Tally()
        projections: list[Projection] = []
        for item in items:
            try:
                projection = project_item(item)
            except PoisonRecordError as exc:
                tally._reject(item_key(item), exc.code, exc.reason)
                continue
            if projection is None or projection.entity.name not in self.targets:
                tally.skipped += 1
                continue
            projections.append(projection)
        tally.add(self.write(projections))
        return tally

    def write(self, projections: Sequence[Projection]) -> Tally:
        """Write projections (documents or tombstones) with their external versions."""
        return self.write_each(projections)[0]

    def write_each(self, projections: Sequence[Projection]) -> tuple[Tally, list[bool]]:
        """Like `write`, and also say per projection whether it is settled: every index has it or newer."""
        tally = Tally()
        settled = [True] * len(projections)
        for position, (projection, results) in enumerate(
            zip(projections, self.write_results(projections), strict=True)
        ):
            if not results:
                tally.skipped += 1
                settled[position] = False
            for index, result in results:
                settled[position] &= tally.count(f"{index}/{projection.doc_id}", result)
        return tally, settled

    def write_results(self, projections: Sequence[Projection]) -> list[list[tuple[str, ItemResult]]]:
        """Write projections; per projection, (index, result) for each index written ([]: no target)."""
        answers: list[list[tuple[str, ItemResult]]] = [[] for _ in projections]
        actions: list[BulkAction] = []
        owners: list[int] = []
        for position, projection in enumerate(projections):
            source = encode_document(projection.document)
            for index in self.targets.get(projection.entity.name, ()):
                actions.append(BulkAction(index, projection.doc_id, projection.version, source=source))
                owners.append(position)
        if not actions:
            return answers
        writer = BulkWriter(self.transport, max_actions=self.max_actions)
        results = writer.write(actions, deadline=time.monotonic() + self.write_seconds).items
        for action, owner, result in zip(actions, owners, results, strict=True):
            answers[owner].append((action.index, result))
        return answers


def transport_for(endpoint: str, auth: str, region: str, connections: int = 8) -> Transport:
    """The projector's transport for a stack's search endpoint."""
    return Transport(endpoint, auth=auth, region=region, max_connections=connections)
