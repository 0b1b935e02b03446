"""Reindex without downtime: build `<base>-v<N+1>` from a new mapping while `<base>-v<N>` keeps serving.

Steps (each is logged; a failed verification stops before the swap, and searches never notice):

1. create the new index from the new mapping;
2. add it to the write alias, so the projector writes every change to both indices;
3. wait longer than the projector's alias cache, so no projector still writes the old index alone;
4. backfill the new index from the table (versioned: the projector's newer writes always win);
5. verify: live document counts match and a random sample of documents is the same in both;
6. swap the read alias in one `_aliases` call (atomic: every search sees one index or the other);
7. remove the old index from the write alias;
8. wait for the alias cache again, then retire (delete) the old index, unless asked to keep it (a
   projector still writing it would otherwise re-create it with a dynamic mapping).

Rerunning after a failure resumes: an existing new index that already is in the write alias is reused,
and the backfill checkpoint (if given) skips what was done.
"""

from __future__ import annotations

import inspect
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.backfill import BackfillResult, backfill
from ops.errors import ReindexError
from ops.indices import alias_indices
from ops.progress import Progress
from ops.writer import ProjectionWriter
from projector.aliases import AliasResolver
from projector.entities import Entity
from projector.indices import READ_FILTER
from projector.transport import Transport

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

# How long a projector may keep writing an alias's old indices: AliasResolver's own default TTL.
PROJECTOR_ALIAS_CACHE_SECONDS: float = inspect.signature(AliasResolver).parameters["ttl_seconds"].default
LIVE: dict[str, Any] = {"bool": {"must_not": [{"term": {"tombstone": True}}]}}


@dataclass
class ReindexReport:
    entity: str
    old_index: str
    new_index: str
    steps: list[str] = field(default_factory=list)
    backfill: BackfillResult | None = None
    counts: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    swapped: bool = False

    def text(self) -> str:
        verdict = "swapped" if self.swapped else "NOT swapped"
        return f"reindex of {self.entity}: {self.old_index} -> {self.new_index} {verdict}"

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "steps": self.steps,
            "backfill": self.backfill.summary() if self.backfill else None,
            "counts": self.counts,
            "sampled": self.sampled,
            "swapped": self.swapped,
        }


def index_version(index: str, entity: Entity) -> int:
    """The mapping version N of ``index``, named ``[INDEX_PREFIX]<the family's index prefix><N>``."""
    prefix = entity.family.index_prefix
    match = re.fullmatch(rf".*{re.escape(prefix)}(\d+)", index)
    if match is None:
        raise ReindexError(f"index {index!r} is not named {prefix}<N>")
    return int(match.group(1))


def load_mapping_file(path: Path) -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ReindexError(f"mapping file {path} does not exist (give one with --mapping)") from exc
    except ValueError as exc:
        raise ReindexError(f"mapping file {path} is not JSON: {exc}") from exc
    if "mappings" not in body:
        raise ReindexError(f"mapping file {path} has no 'mappings' (expected a create-index body)")
    return body


class Reindexer:
    """Runs one entity's reindex; see the module docstring."""

    def __init__(
        self,
        search: OpenSearch,
        dynamodb: Any,
        table_name: str,
        transport: Transport,
        entity: Entity,
        prefix: str = "",
        log: Callable[[str], None] = print,
    ) -> None:
        self.search = search
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.transport = transport
        self.entity = entity
        self.prefix = prefix
        self.log = log
        self.read_alias = entity.read_alias(prefix)
        self.write_alias = entity.write_alias(prefix)

    def current_index(self) -> str:
        serving = alias_indices(self.search, self.read_alias)
        if len(serving) != 1:
            raise ReindexError(
                f"read alias {self.read_alias!r} must point at exactly one index, found {serving}"
            )
        return serving[0]

    def plan(
        self, version: int | None = None, mapping: str | Path | None = None
    ) -> tuple[str, str, dict[str, Any]]:
        """(old index, new index, create body)."""
        old = self.current_index()
        new_version = version if version is not None else index_version(old, self.entity) + 1
        new = replace(self.entity, mapping_version=new_version)
        new_index = new.index(self.prefix)
        if new_index == old:
            raise ReindexError(f"{old} already serves {self.read_alias}: choose a higher --version")
        return old, new_index, load_mapping_file(Path(mapping) if mapping is not None else new.mapping_file)

    def run(
        self,
        version: int | None = None,
        mapping: str | Path | None = None,
        alias_cache_seconds: float = PROJECTOR_ALIAS_CACHE_SECONDS + 5,
        segments: int = 4,
        rate: float | None = None,
        checkpoint: Path | None = None,
        sample_size: int = 50,
        verify_seconds: float = 30.0,
        keep_old: bool = False,
        progress: Progress | None = None,
    ) -> ReindexReport:
        old, new_index, body = self.plan(version, mapping)
        report = ReindexReport(self.entity.name, old, new_index)

        def step(text: str) -> None:
            report.steps.append(text)
            self.log(text)

        writing = alias_indices(self.search, self.write_alias)
        if self.search.indices.exists(index=new_index):
            if new_index not in writing:
                raise ReindexError(
                    f"{new_index} exists but is not in {self.write_alias}: "
                    "a leftover? delete it (--abort) or choose --version"
                )
            step(f"resume: {new_index} exists and is in {self.write_alias}")
        else:
            self.search.indices.create(index=new_index, body=body)
            step(f"created {new_index}")
        if new_index not in writing:
            self._aliases([{"add": {"index": new_index, "alias": self.write_alias}}])
            step(f"added {new_index} to {self.write_alias}: the projector now writes {old} and {new_index}")
        step(f"waiting {alias_cache_seconds:g} s for the projector's write-alias cache to expire")
        time.sleep(alias_cache_seconds)

        writer = ProjectionWriter(self.transport, {self.entity.name: [new_index]})
        report.backfill = backfill(
            self.dynamodb, self.table_name, writer, segments=segments, rate=rate,
            checkpoint_path=checkpoint, progress=progress,
        )  # fmt: skip
        counts = report.backfill.tally.counts()
        step(f"backfilled {new_index}: written {counts['written']}, stale {counts['stale']}, "
             f"rejected {counts['rejected']}")  # fmt: skip

        report.counts, report.sampled = self._verify(old, new_index, sample_size, verify_seconds)
        step(
            f"verified: {report.counts[old]} live documents in both, {report.sampled} sampled documents equal"
        )

        serving = self.search.indices.get_alias(index=old, name=self.read_alias)
        read_filter = serving[old]["aliases"][self.read_alias].get("filter", READ_FILTER)
        self._aliases(
            [
                {"remove": {"index": old, "alias": self.read_alias}},
                {"add": {"index": new_index, "alias": self.read_alias, "filter": read_filter}},
            ]
        )
        report.swapped = True
        step(f"swapped {self.read_alias}: {old} -> {new_index} (one _aliases call)")
        if old in alias_indices(self.search, self.write_alias):
            self._aliases([{"remove": {"index": old, "alias": self.write_alias}}])
        step(f"removed {old} from {self.write_alias}")
        if keep_old:
            step(f"kept {old} (no aliases) for a rollback")
        else:
            # A projector whose cache still lists the old index would write it after a delete, and
            # OpenSearch would auto-create it again with a dynamic mapping: let the caches expire first.
            step(f"waiting {alias_cache_seconds:g} s before deleting {old}, for the projector's cache again")
            time.sleep(alias_cache_seconds)
            self.search.indices.delete(index=old)
            step(f"deleted {old}")
        return report

    def abort(self, version: int | None = None) -> list[str]:
        """Undo an unfinished reindex: take the new index out of the write alias and delete it."""
        old = self.current_index()
        new_index = replace(
            self.entity,
            mapping_version=version if version is not None else index_version(old, self.entity) + 1,
        ).index(self.prefix)
        done: list[str] = []
        if new_index in alias_indices(self.search, self.write_alias):
            self._aliases([{"remove": {"index": new_index, "alias": self.write_alias}}])
            done.append(f"removed {new_index} from {self.write_alias}")
        if self.search.indices.exists(index=new_index):
            self.search.indices.delete(index=new_index)
            done.append(f"deleted {new_index}")
        return done or [f"nothing to undo: {new_index} does not exist"]

    def _aliases(self, actions: list[dict[str, Any]]) -> None:
        self.search.indices.update_aliases(body={"actions": actions})

    def _verify(self, old: str, new: str, sample_size: int, seconds: float) -> tuple[dict[str, int], int]:
        """Counts of live documents must match, and sampled documents be equal; live writes may still be
        landing in either index, so both checks are retried until `seconds` run out."""
        deadline = time.monotonic() + seconds
        problem = ""
        while True:
            self.search.indices.refresh(index=f"{old},{new}")
            counts = {
                index: self.search.count(index=index, body={"query": LIVE})["count"] for index in (old, new)
            }
            if counts[old] != counts[new]:
                problem = f"live document counts differ: {old} {counts[old]}, {new} {counts[new]}"
            else:
                problem, sampled = self._sample(old, new, sample_size)
                if not problem:
                    return counts, sampled
            if time.monotonic() > deadline:
                raise ReindexError(
                    f"verification failed, read alias not moved: {problem}. The projector keeps writing both "
                    "indices: run reconcile, then rerun the reindex (or --abort)"
                )
            time.sleep(1.0)

    def _sample(self, old: str, new: str, size: int) -> tuple[str, int]:
        seed = random.randrange(1 << 30)
        query = {"function_score": {"query": LIVE, "random_score": {"seed": seed, "field": "_seq_no"}}}
        hits = self.search.search(index=old, body={"size": size, "version": True, "query": query})["hits"][
            "hits"
        ]
        if not hits:
            return "", 0
        found = self.search.mget(index=new, body={"ids": [hit["_id"] for hit in hits]})["docs"]
        for hit, doc in zip(hits, found, strict=True):
            if not doc.get("found"):
                return f"document {hit['_id']} is missing from {new}", 0
            if doc["_version"] == hit["_version"] and doc["_source"] != hit["_source"]:
                return f"document {hit['_id']} differs at version {hit['_version']}", 0
            if doc["_version"] < hit["_version"]:
                return f"document {hit['_id']} is older in {new}", 0
        return "", len(hits)
