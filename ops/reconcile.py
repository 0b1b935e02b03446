"""Reconcile: compare the table with every index the projector writes, report drift, optionally repair it.

For each projected entity the table gives `{doc id: (key, version)}` and each concrete index behind the
entity's write alias gives `{doc id: (version, tombstone)}`. Drift kinds:

| kind     | table           | index                                | repair                      |
| -------- | --------------- | ------------------------------------ | --------------------------- |
| missing  | item, version v | no document, or a tombstone below v  | re-project the item by key  |
| stale    | item, version v | live document below v                | re-project the item by key  |
| ahead    | item, version v | document above v (table restored?)   | delete, then re-project     |
| orphaned | no item         | live document, version d             | tombstone at d + 1          |

Tombstones of absent items are expected (they are purged after the retention) and only counted. Items the
projector cannot project (no version, bad id) are listed as *unprojectable*: they belong in the DLQ.

Scanning the table and the index takes time while the stream keeps writing, so every candidate is checked
again by key (a consistent read and a real-time GET) after `settle_seconds`; only drift that persists is
reported. That makes a scheduled reconcile against a live stack quiet unless something is really wrong.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ops.indices import DocVersion, alias_indices, get_versions, iter_versions
from ops.scan import Checkpoint, Item, parallel_scan, wire_item
from ops.writer import ProjectionWriter, Tally
from projector.exceptions import PoisonRecordError
from projector.rules import (
    ENTITIES,
    Entity,
    Projection,
    doc_id_of,
    entity_of,
    project_item,
    project_tombstone,
    version_of,
)

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

DRIFT_KINDS = ("missing", "stale", "ahead", "orphaned")
_KEY_ATTRIBUTES = ("pk", "sk", "type", "id", "version")
MAX_LISTED = 100


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

    @property
    def drift_count(self) -> int:
        return sum(report.drift_count for report in self.indices)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "drift": self.drift_count,
            "indices": [report.as_json() for report in self.indices],
            "unprojectable": self.unprojectable[:MAX_LISTED],
        }
        if self.repaired is not None:
            body["repaired"] = self.repaired.counts()
        return body

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
            lines.append("repaired: " + ", ".join(f"{k} {v}" for k, v in self.repaired.counts().items()))
            if self.repaired.stale:
                lines.append(
                    "  stale: the index had that version or newer, or still remembers a delete made by hand "
                    "(index.gc_deletes, 60 s by default): repair again after it"
                )
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
) -> ReconcileReport:
    """Compare the table with every index behind each entity's write alias; repair if asked.

    `writer` is needed for `repair=True`; its targets are set per index as the repair goes.
    """
    if repair and writer is None:
        raise ValueError("repair needs a ProjectionWriter")
    table, unprojectable = read_table(dynamodb, table_name, segments)
    result = ReconcileReport(unprojectable=unprojectable)
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
        result.repaired = Tally()
        for report in result.indices:
            result.repaired.add(_repair(dynamodb, table_name, search, writer, report, table[report.entity]))
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
    """The table key of a document's item (docs/design.md §1): from its id, and a review's listing id."""
    if entity.id_key == "pk":
        return {"pk": {"S": f"{entity.id_prefix}{doc_id}"}, "sk": {"S": entity.name.upper()}}
    if doc is not None and doc.listing_id:
        return {"pk": {"S": f"LISTING#{doc.listing_id}"}, "sk": {"S": f"{entity.id_prefix}{doc_id}"}}
    return None


def _read_entry(dynamodb: Any, table_name: str, entity: Entity, key: dict[str, Any]) -> TableEntry | None:
    item = dynamodb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
    if item is None:
        return None
    image = wire_item(item)
    try:
        return TableEntry(key, version_of(entity, image))
    except PoisonRecordError:
        return None


def _repair(
    dynamodb: Any,
    table_name: str,
    search: OpenSearch,
    writer: ProjectionWriter,
    report: IndexReport,
    table: dict[str, TableEntry],
) -> Tally:
    """Re-project missing/stale/ahead items by key; tombstone orphans one version above their document."""
    entity = next(e for e in ENTITIES if e.name == report.entity)
    index_writer = ProjectionWriter(writer.transport, {entity.name: [report.index]}, writer.write_seconds)
    for doc_id in report.drift["ahead"]:
        # External versions never go down: remove the document first, then write the table's version.
        search.delete(index=report.index, id=doc_id, params={"ignore": "404"})
    projections: list[Projection] = []
    tally = Tally()
    for doc_id in report.drift["missing"] + report.drift["stale"] + report.drift["ahead"]:
        item = dynamodb.get_item(TableName=table_name, Key=table[doc_id].key, ConsistentRead=True).get("Item")
        if item is None:
            continue  # deleted meanwhile: the stream's tombstone takes care of it
        try:
            projection = project_item(wire_item(item))
        except PoisonRecordError as exc:
            tally._reject(doc_id, exc.code, exc.reason)
            continue
        if projection is not None:
            projections.append(projection)
    docs = get_versions(search, report.index, report.drift["orphaned"])
    for doc_id in report.drift["orphaned"]:
        doc = docs.get(doc_id)
        if doc is None or doc.tombstone:
            continue
        old = {"id": {"S": doc_id}, "type": {"S": entity.name}, "version": {"N": str(doc.version)}}
        tombstone = project_tombstone(old)
        if tombstone is not None:
            projections.append(tombstone)
    tally.add(index_writer.write(projections))
    return tally


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
    or an item just repaired. A review's key needs its `listing_id`. Raises LookupError when the write
    alias does not exist.
    """
    key = _key_of(entity, doc_id, DocVersion(doc_id, 0, False, listing_id))
    if key is None:
        raise ValueError(f"the key of {entity.name} {doc_id!r} needs its listing id")
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
