"""Reconcile: compare the table with every index the projector writes, report drift, optionally repair it.

For each projected entity the table gives `{doc id: (key, version)}` and each concrete index behind the
entity's write alias gives `{doc id: (version, tombstone)}`. Drift kinds:

| kind     | table           | index                                | repair                           |
| -------- | --------------- | ------------------------------------ | -------------------------------- |
| missing  | item, version v | no document, or a tombstone below v  | re-project the item by key       |
| stale    | item, version v | live document below v                | re-project the item by key       |
| ahead    | item, version v | document at or above v (restored?)   | raise the item's version, write  |
| orphaned | no item         | live document, version d             | tombstone at d + 1               |

Tombstones of absent items are expected (they are purged after the retention) and only counted. Items the
projector cannot project (no version, bad id) are listed as *unprojectable*: they belong in the DLQ.

External versions never go down, and OpenSearch remembers a deleted document's version for
`index.gc_deletes` (60 s by default) without showing it: re-writing a document deleted by hand, or one the
index holds above the table's version, at the table's version gets a 409. So the repair gives such an item
a new version in the table, the way an update does (docs/design.md §3: `max(v + 1, now_ms * 1000)`, and
above what the index holds, with the condition `version = v`), and writes that version to every index
itself: the read model is clean when the repair returns, and the stream's own record of the change only
meets its version again (a harmless 409). Content is unchanged, but a client holding `v` as its expected
version now gets a conflict, so more than `max_raises` such items (a restored table, say) are only raised
when asked for (`--max-raises`).

Scanning the table and the index takes time while the stream keeps writing, so every candidate is checked
again by key (a consistent read and a real-time GET) after `settle_seconds`; only drift that persists is
reported. That makes a scheduled reconcile against a live stack quiet unless something is really wrong.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ops.indices import DocVersion, alias_indices, get_versions, iter_versions
from ops.scan import Checkpoint, parallel_scan
from ops.writer import ProjectionWriter, Tally
from projector.bulk import ItemResult, Outcome
from projector.documents import Projection, project_item, project_tombstone
from projector.entities import ENTITIES, Entity
from projector.exceptions import PoisonRecordError
from projector.identity import doc_id_of, entity_of, version_of
from stackclient.lambda_wire import Item, wire_item

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

DRIFT_KINDS = ("missing", "stale", "ahead", "orphaned")
_KEY_ATTRIBUTES = ("pk", "sk", "type", "id", "version")
MAX_LISTED = 100
DEFAULT_MAX_RAISES = 100
"""More items than this needing a new version in the table is more than stray drift: ask first."""
VERSION_LIMIT = 2**53
"""Versions stay below 2^53 (docs/design.md §3: APPSYNC_JS computes them exactly)."""
_RAISE_ATTEMPTS = 3
# OpenSearch's (and osmem's) 409 reason names the version it holds, also for a deleted document.
_CURRENT_VERSION = re.compile(r"current version \[(\d+)\]")


@dataclass(frozen=True, slots=True)
class TableEntry:
    key: dict[str, Any]  # {"pk": {"S": ...}, "sk": {"S": ...}}
    version: int


@dataclass
class IndexReport:
    """Drift of one concrete index."""

    entity: str
    index: str
    table_items: int = 0
    documents: int = 0
    tombstones: int = 0
    drift: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in DRIFT_KINDS})

    @property
    def drift_count(self) -> int:
        return sum(len(ids) for ids in self.drift.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "index": self.index,
            "table_items": self.table_items,
            "documents": self.documents,
            "tombstones": self.tombstones,
            "drift": {kind: len(ids) for kind, ids in self.drift.items()},
            "ids": {kind: sorted(ids)[:MAX_LISTED] for kind, ids in self.drift.items() if ids},
        }


@dataclass
class ReconcileReport:
    indices: list[IndexReport] = field(default_factory=list)
    unprojectable: list[dict[str, str]] = field(default_factory=list)
    repaired: Tally | None = None
    raised: list[str] = field(default_factory=list)
    """`<entity>/<id>` of the items the repair gave a new version in the table."""
    raise_refused: list[str] = field(default_factory=list)
    """Items that need a new version, left alone because there were more than `max_raises`."""
    max_raises: int = DEFAULT_MAX_RAISES

    @property
    def drift_count(self) -> int:
        return sum(report.drift_count for report in self.indices)

    @property
    def repair_complete(self) -> bool:
        """A repair ran and left nothing behind: nothing failed, rejected or refused."""
        return (
            self.repaired is not None
            and self.repaired.failed == 0
            and self.repaired.rejected == 0
            and not self.raise_refused
        )

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "drift": self.drift_count,
            "indices": [report.as_json() for report in self.indices],
            "unprojectable": self.unprojectable[:MAX_LISTED],
        }
        if self.repaired is not None:
            body["repaired"] = {**self.repaired.counts(), "raised": len(self.raised)}
            body["raised"] = sorted(self.raised)[:MAX_LISTED]
            if self.raise_refused:
                body["raise_refused"] = {
                    "count": len(self.raise_refused),
                    "max_raises": self.max_raises,
                    "ids": sorted(self.raise_refused)[:MAX_LISTED],
                }
        return body

    def refusal(self) -> str:
        """Why items were left alone, and how to go on ("" when none were)."""
        if not self.raise_refused:
            return ""
        return (
            f"{len(self.raise_refused)} items need a new version in the table before the index takes them"
            f" (the index holds or remembers their version or a newer one: a restored table, or documents"
            f" deleted by hand), more than --max-raises {self.max_raises}; nothing was raised. A client"
            f" holding an item's old version gets a conflict after a raise. Rerun with"
            f" --max-raises {len(self.raise_refused)} to raise them."
        )

    def text(self) -> str:
        lines = []
        for report in self.indices:
            counts = "  ".join(f"{kind} {len(report.drift[kind])}" for kind in DRIFT_KINDS)
            lines.append(
                f"{report.entity:<8} {report.index:<24} table {report.table_items}"
                f"  documents {report.documents}  tombstones {report.tombstones}  |  {counts}"
            )
            for kind in DRIFT_KINDS:
                ids = sorted(report.drift[kind])
                if ids:
                    more = f" (+{len(ids) - 5} more; --json lists {MAX_LISTED})" if len(ids) > 5 else ""
                    lines.append(f"    {kind}: {', '.join(ids[:5])}{more}")
        if self.unprojectable:
            lines.append(f"unprojectable items: {len(self.unprojectable)} (see the dead-letter queue)")
            lines.extend(f"    {u['key']}: {u['code']}" for u in self.unprojectable[:10])
        if self.repaired is not None:
            repaired = {**self.repaired.counts(), "raised": len(self.raised)}
            lines.append("repaired: " + ", ".join(f"{k} {v}" for k, v in repaired.items()))
            if self.raised:
                more = f" (+{len(self.raised) - 5} more)" if len(self.raised) > 5 else ""
                listed = ", ".join(sorted(self.raised)[:5])
                lines.append(f"  raised (new version in the table): {listed}{more}")
            if self.raise_refused:
                lines.append(f"  NOT raised: {self.refusal()}")
        lines.append("no drift" if self.drift_count == 0 else f"DRIFT: {self.drift_count} documents")
        return "\n".join(lines)


def read_table(
    dynamodb: Any, table: str, segments: int = 4
) -> tuple[dict[str, dict[str, TableEntry]], list[dict[str, str]]]:
    """Entity name → doc id → (key, version), plus the items that cannot be projected."""
    found: dict[str, dict[str, TableEntry]] = {entity.name: {} for entity in ENTITIES}
    unprojectable: list[dict[str, str]] = []
    lock = threading.Lock()

    def handle(items: list[Item]) -> None:
        for image in items:
            entity = entity_of(image)
            if entity is None:
                continue
            key = {"pk": image["pk"], "sk": image["sk"]}
            try:
                entry = (doc_id_of(entity, image), TableEntry(key, version_of(entity, image)))
            except PoisonRecordError as exc:
                with lock:
                    unprojectable.append({"key": f"{key['pk']['S']}|{key['sk']['S']}", "code": exc.code})
                continue
            with lock:
                found[entity.name][entry[0]] = entry[1]

    names = {f"#{name}": name for name in _KEY_ATTRIBUTES}
    parallel_scan(
        dynamodb,
        table,
        Checkpoint.open(None, "reconcile", segments),
        handle,
        page_size=1000,
        extra={"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names},
    )
    return found, unprojectable


def classify(table_entry: TableEntry | None, doc: DocVersion | None) -> str | None:
    """The drift kind of one id, or None when table and index agree."""
    if table_entry is None:
        return "orphaned" if doc is not None and not doc.tombstone else None
    if doc is None:
        return "missing"
    if doc.version > table_entry.version:
        return "ahead"
    if doc.version < table_entry.version:
        return "missing" if doc.tombstone else "stale"
    return "ahead" if doc.tombstone else None  # a tombstone at the item's own version: the table went back


def compare(
    entity: Entity, index: str, table: dict[str, TableEntry], docs: Iterable[DocVersion]
) -> tuple[IndexReport, dict[str, DocVersion]]:
    report = IndexReport(entity.name, index, table_items=len(table))
    seen: dict[str, DocVersion] = {}
    for doc in docs:
        seen[doc.doc_id] = doc
        report.documents += 1
        report.tombstones += doc.tombstone
        kind = classify(table.get(doc.doc_id), doc)
        if kind is not None:
            report.drift[kind].append(doc.doc_id)
    report.drift["missing"].extend(doc_id for doc_id in table if doc_id not in seen)
    return report, seen


def reconcile(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    writer: ProjectionWriter | None = None,
    prefix: str = "",
    entities: Sequence[Entity] = ENTITIES,
    segments: int = 4,
    settle_seconds: float = 2.0,
    repair: bool = False,
    max_raises: int = DEFAULT_MAX_RAISES,
) -> ReconcileReport:
    """Compare the table with every index behind each entity's write alias; repair if asked.

    `writer` is needed for `repair=True`; its targets are set per index as the repair goes. A repair gives
    at most `max_raises` items a new version in the table (see the module docstring); with more, it
    raises none of them and lists them in `raise_refused`.
    """
    if repair and writer is None:
        raise ValueError("repair needs a ProjectionWriter")
    table, unprojectable = read_table(dynamodb, table_name, segments)
    result = ReconcileReport(unprojectable=unprojectable, max_raises=max_raises)
    for entity in entities:
        for index in alias_indices(search, entity.write_alias(prefix)):
            search.indices.refresh(index=index)
            report, _ = compare(entity, index, table[entity.name], iter_versions(search, index))
            result.indices.append(report)
    if result.drift_count and settle_seconds > 0:
        time.sleep(settle_seconds)
    for report in result.indices:
        _recheck(dynamodb, table_name, search, report, table[report.entity])
    if repair and result.drift_count:
        assert writer is not None
        _repair(dynamodb, table_name, search, writer, result, table)
    return result


def _recheck(
    dynamodb: Any, table_name: str, search: OpenSearch, report: IndexReport, table: dict[str, TableEntry]
) -> None:
    """Read every candidate again, by key and in real time; keep only the drift that persists."""
    candidates = [doc_id for ids in report.drift.values() for doc_id in ids]
    if not candidates:
        return
    docs = get_versions(search, report.index, candidates)
    entity = next(e for e in ENTITIES if e.name == report.entity)
    fresh: dict[str, TableEntry | None] = {}
    for doc_id in candidates:
        entry = table.get(doc_id)
        fresh[doc_id] = _read_entry(dynamodb, table_name, entity, entry.key) if entry is not None else None
    # An orphan may have been created after the scan: look it up by its key shape.
    for doc_id in report.drift["orphaned"]:
        key = _key_of(entity, doc_id, docs.get(doc_id))
        if key is not None:
            fresh[doc_id] = _read_entry(dynamodb, table_name, entity, key)
    report.drift = {kind: [] for kind in DRIFT_KINDS}
    for doc_id in candidates:
        entry = fresh.get(doc_id)
        if entry is not None:
            table[doc_id] = entry
        else:
            table.pop(doc_id, None)
        kind = classify(entry, docs.get(doc_id))
        if kind is not None:
            report.drift[kind].append(doc_id)


def _key_of(entity: Entity, doc_id: str, doc: DocVersion | None) -> dict[str, Any] | None:
    """The table key of a document's item (docs/design.md §1): from its id alone (a review's id names its
    listing and author); None for an id that cannot be the entity's."""
    key = entity.key_of(doc_id)
    return None if key is None else {name: {"S": value} for name, value in key.items()}


def _read_entry(dynamodb: Any, table_name: str, entity: Entity, key: dict[str, Any]) -> TableEntry | None:
    item = dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        return None
    image = wire_item(item)
    try:
        return TableEntry(key, version_of(entity, image))
    except PoisonRecordError:
        return None


@dataclass
class _Raise:
    """An item the index will not take at its table version: it needs a new one, above `floor`."""

    entity: Entity
    doc_id: str
    key: dict[str, Any]
    floor: int
    """The highest version an index holds or remembers for the document."""


def _repair(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    writer: ProjectionWriter,
    result: ReconcileReport,
    table: dict[str, dict[str, TableEntry]],
) -> None:
    """Repair every index, then give the items no index would take a new version (see the docstring)."""
    tally = result.repaired = Tally()
    raises: dict[tuple[str, str], _Raise] = {}
    indices: dict[str, list[str]] = {}
    for report in result.indices:
        indices.setdefault(report.entity, []).append(report.index)
        _repair_index(dynamodb, table_name, search, writer, report, table[report.entity], tally, raises)
    pending = sorted(raises.values(), key=lambda r: (r.entity.name, r.doc_id))
    if len(pending) > result.max_raises:
        result.raise_refused = [f"{r.entity.name}/{r.doc_id}" for r in pending]
        return
    for item in pending:
        # Every index behind the write alias gets the new version, as the stream would write it.
        targets = {item.entity.name: indices[item.entity.name]}
        entity_writer = ProjectionWriter(writer.transport, targets, writer.write_seconds)
        if _raise_and_write(dynamodb, table_name, search, entity_writer, item, tally):
            result.raised.append(f"{item.entity.name}/{item.doc_id}")


def _repair_index(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    writer: ProjectionWriter,
    report: IndexReport,
    table: dict[str, TableEntry],
    tally: Tally,
    raises: dict[tuple[str, str], _Raise],
) -> None:
    """Re-project drifted items at their table versions and tombstone orphans one version above their
    document; items the index will not take at their version are added to `raises`."""
    entity = next(e for e in ENTITIES if e.name == report.entity)
    index_writer = ProjectionWriter(writer.transport, {entity.name: [report.index]}, writer.write_seconds)
    drifted = report.drift["missing"] + report.drift["stale"] + report.drift["ahead"]
    docs = get_versions(search, report.index, drifted + report.drift["orphaned"])

    def needs_raise(doc_id: str, floor: int) -> None:
        known = raises.get((entity.name, doc_id))
        if known is None:
            raises[(entity.name, doc_id)] = _Raise(entity, doc_id, table[doc_id].key, floor)
        else:
            known.floor = max(known.floor, floor)

    projections: list[Projection] = []
    for doc_id in drifted:
        item = dynamodb.get_item(TableName=table_name, Key=table[doc_id].key, ConsistentRead=True).get("Item")
        if item is None:
            continue  # deleted meanwhile: the stream's tombstone takes care of it
        try:
            projection = project_item(wire_item(item))
        except PoisonRecordError as exc:
            tally._reject(doc_id, exc.code, exc.reason)
            continue
        if projection is None:
            continue
        doc = docs.get(doc_id)
        if doc is not None and doc.version >= projection.version:
            needs_raise(doc_id, doc.version)  # ahead: that write could only be refused
        else:
            projections.append(projection)
    for doc_id in report.drift["orphaned"]:
        doc = docs.get(doc_id)
        if doc is None or doc.tombstone:
            continue
        projections.extend(_tombstone_above(entity, doc_id, doc.version))
    refused: list[tuple[Projection, ItemResult]] = []
    for projection, results in zip(projections, index_writer.write_results(projections), strict=True):
        for index, outcome in results:
            if outcome.outcome is Outcome.STALE and not projection.tombstone:
                refused.append((projection, outcome))
            else:
                tally.count(f"{index}/{projection.doc_id}", outcome)
    if not refused:
        return
    # A 409 at the item's own version is settled when the document is there at that version (the stream
    # wrote it meanwhile); otherwise the index remembers a delete (gc_deletes) or holds a newer version.
    now = get_versions(search, report.index, [projection.doc_id for projection, _ in refused])
    for projection, outcome in refused:
        doc = now.get(projection.doc_id)
        if doc is not None and not doc.tombstone and doc.version == projection.version:
            tally.count(f"{report.index}/{projection.doc_id}", outcome)
        else:
            held = max(projection.version, doc.version if doc else 0, _held_version(outcome))
            needs_raise(projection.doc_id, held)


def _tombstone_above(entity: Entity, doc_id: str, version: int) -> list[Projection]:
    """The tombstone of a document whose item is gone, one version above what the index holds."""
    old = {"id": {"S": doc_id}, "type": {"S": entity.name}, "version": {"N": str(version)}}
    tombstone = project_tombstone(old)
    return [tombstone] if tombstone is not None else []


def _held_version(result: ItemResult) -> int:
    """The version a 409 says the index holds (0 when its reason does not say)."""
    match = _CURRENT_VERSION.search(result.reason or "")
    return int(match.group(1)) if match else 0


def _raise_and_write(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    writer: ProjectionWriter,
    item: _Raise,
    tally: Tally,
) -> bool:
    """Give the item a version above `item.floor` (a conditional update, as a command would) and write it
    to every index of its entity. Returns whether the table's version was raised."""
    raised = False
    label = f"{item.entity.name}/{item.doc_id}"
    for _ in range(_RAISE_ATTEMPTS):
        current = dynamodb.get_item(TableName=table_name, Key=item.key, ConsistentRead=True).get("Item")
        if current is None:
            # Deleted meanwhile: its tombstone (old version + 1) may be below what the index holds, so
            # write one above that, as for an orphan.
            tally.add(writer.write(_tombstone_above(item.entity, item.doc_id, item.floor)))
            return raised
        try:
            old_version = version_of(item.entity, wire_item(current))
        except PoisonRecordError as exc:
            tally._reject(label, exc.code, exc.reason)
            return raised
        new_version = max(old_version + 1, item.floor + 1, int(time.time() * 1000) * 1000)
        if new_version >= VERSION_LIMIT:
            tally._reject(
                label,
                "version_limit",
                f"the index holds version {item.floor}; a version above it leaves docs/design.md §3's"
                " range (< 2^53): delete the document by hand and repair after index.gc_deletes",
            )
            return raised
        try:
            updated = dynamodb.update_item(
                TableName=table_name,
                Key=item.key,
                UpdateExpression="SET #version = :new",
                ConditionExpression="#version = :old",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":new": {"N": str(new_version)}, ":old": {"N": str(old_version)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # a command changed the item meanwhile: read it again
        raised = True
        try:
            projection = project_item(wire_item(updated))
        except PoisonRecordError as exc:  # it projected a moment ago; only a concurrent edit could do this
            tally._reject(label, exc.code, exc.reason)
            return raised
        if projection is None:
            return raised
        blocked = False
        for index, outcome in writer.write_results([projection])[0]:
            if outcome.outcome is Outcome.STALE:
                doc = get_versions(search, index, [item.doc_id]).get(item.doc_id)
                if doc is None or doc.tombstone or doc.version < projection.version:
                    item.floor = max(item.floor, _held_version(outcome), projection.version)
                    blocked = True
                    continue
            tally.count(f"{index}/{item.doc_id}", outcome)
        if not blocked:
            return raised
    tally.failed += 1
    return raised


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """One document against its item in one index behind the write alias; `kind` None when they agree."""

    index: str
    doc_id: str
    kind: str | None
    table_version: int | None
    index_version: int | None
    tombstone: bool = False


def reconcile_key(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    entity: Entity,
    doc_id: str,
    prefix: str = "",
    listing_id: str | None = None,
) -> list[KeyCheck]:
    """Reconcile one document by key: its item (consistent read) against each index behind the write alias.

    No scan and no settling pause: meant for a key nobody else is writing, such as a smoke test's canary
    or an item just repaired. A review's id names its key; `listing_id`, if given, must agree with it.
    Raises LookupError when the write alias does not exist.
    """
    key = _key_of(entity, doc_id, DocVersion(doc_id, 0, False, listing_id))
    if key is None:
        raise ValueError(f"{entity.name} id {doc_id!r} is not <listingId>.<author> (docs/design.md §1)")
    if listing_id is not None and key["pk"]["S"] != f"LISTING#{listing_id}":
        raise ValueError(f"{entity.name} {doc_id!r} does not belong to listing {listing_id!r}")
    alias = entity.write_alias(prefix)
    indices = alias_indices(search, alias)
    if not indices:
        raise LookupError(
            f"alias {alias!r} does not exist: create indices first (python -m projector.indices)"
        )
    entry = _read_entry(dynamodb, table_name, entity, key)
    checks = []
    for index in indices:
        doc = get_versions(search, index, [doc_id]).get(doc_id)  # a real-time GET: no refresh needed
        checks.append(
            KeyCheck(
                index,
                doc_id,
                classify(entry, doc),
                entry.version if entry is not None else None,
                doc.version if doc is not None else None,
                doc is not None and doc.tombstone,
            )
        )
    return checks
