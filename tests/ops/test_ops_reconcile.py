"""Drift injected by hand is found exactly by reconcile, fixed by --repair, and then reconcile is clean."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from opshelpers import OpsEnv, run_script
from support.items import listing, review

from ops.backfill import backfill
from ops.indices import DocVersion, iter_versions
from ops.reconcile import TableEntry, _recheck, classify, compare, reconcile
from projector.bulk import BulkAction, BulkWriter
from projector.entities import LISTING, REVIEW, Entity
from stackclient.items import new_version


def _write(env: OpsEnv, doc_id: str, version: int, document: dict[str, object]) -> None:
    """Write one document straight into the index, as a bug or an operator would."""
    writer = BulkWriter(env.writer().transport)
    [result] = writer.write([BulkAction(env.index(), doc_id, version, document=document)]).items
    assert result.outcome.value == "indexed", result


def _reconcile_cli(env: OpsEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return run_script(env, "reconcile.py", "--settle", "0", *args)


def test_drift_is_found_exactly_repaired_and_gone(ops_env: OpsEnv) -> None:
    env = ops_env
    versions = {f"l{n:02d}": env.put_listing(f"l{n:02d}") for n in range(20)}
    env.put(review("l00", "r1", new_version()))
    env.put({**listing("noversion", 1), "version": {"S": "x"}})
    backfill(env.dynamodb, env.stack.table_name, env.writer())
    assert (
        reconcile(
            env.dynamodb, env.stack.table_name, env.search, prefix=env.prefix, settle_seconds=0
        ).drift_count
        == 0
    )

    # missing: documents lost from the index
    for doc_id in ("l01", "l02"):
        env.search.delete(index=env.index(), id=doc_id)
    # stale: an older version written over the current one
    for doc_id in ("l03", "l04"):
        env.search.delete(index=env.index(), id=doc_id)
        _write(
            env, doc_id, versions[doc_id] - 1, {"id": doc_id, "title": "old", "version": versions[doc_id] - 1}
        )
    # missing too: a tombstone below the item's version hides a live item
    env.search.delete(index=env.index(), id="l05")
    _write(
        env, "l05", versions["l05"] - 1, {"id": "l05", "tombstone": True, "deletedAt": "2026-11-29T10:00:00Z"}
    )
    # orphaned: documents whose items do not exist
    for doc_id in ("ghost1", "ghost2"):
        _write(env, doc_id, 7, {"id": doc_id, "title": "ghost", "version": 7})
    # ahead: the table went back (a restore) below the indexed version
    env.put(listing("l06", versions["l06"] - 1000))
    # not drift: the tombstone of an item deleted long ago
    _write(env, "gone", 9, {"id": "gone", "tombstone": True, "deletedAt": "2026-11-29T10:00:00Z"})

    found = _reconcile_cli(env, "--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    [listings] = [index for index in report["indices"] if index["index"] == env.index()]
    assert listings["ids"] == {
        "missing": ["l01", "l02", "l05"],
        "stale": ["l03", "l04"],
        "ahead": ["l06"],
        "orphaned": ["ghost1", "ghost2"],
    }
    assert listings["tombstones"] == 2
    assert report["drift"] == 8
    assert [u["code"] for u in report["unprojectable"]] == ["invalid_version"]

    text = _reconcile_cli(env)
    assert text.returncode == 1
    assert "DRIFT: 8 documents" in text.stdout and "orphaned: ghost1, ghost2" in text.stdout

    repaired = _reconcile_cli(env, "--repair", "--json")
    assert repaired.returncode == 1, repaired.stderr
    assert json.loads(repaired.stdout)["repaired"]["written"] == 8

    clean = _reconcile_cli(env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().endswith("no drift")
    assert env.live_versions(f"{env.prefix}listings") == env.table_versions()


@pytest.mark.parametrize(
    ("entry", "doc", "kind"),
    [
        (TableEntry({}, 5), None, "missing"),
        (TableEntry({}, 5), DocVersion("x", 5, False), None),
        (TableEntry({}, 5), DocVersion("x", 4, False), "stale"),
        (TableEntry({}, 5), DocVersion("x", 4, True), "missing"),
        (TableEntry({}, 5), DocVersion("x", 6, False), "ahead"),
        (TableEntry({}, 5), DocVersion("x", 6, True), "ahead"),
        (None, DocVersion("x", 6, False), "orphaned"),
        (None, DocVersion("x", 6, True), None),
        (None, None, None),
    ],
)
def test_classify(entry: TableEntry | None, doc: DocVersion | None, kind: str | None) -> None:
    assert classify(entry, doc) == kind


def test_a_write_after_the_scan_is_not_reported(ops_env: OpsEnv) -> None:
    """The recheck by key drops candidates that a live write fixed between the scans."""
    env = ops_env
    env.put_listing("a")
    backfill(env.dynamodb, env.stack.table_name, env.writer())
    stale = reconcile(env.dynamodb, env.stack.table_name, env.search, prefix=env.prefix, settle_seconds=0)
    assert stale.drift_count == 0
    env.put_listing("b")  # not yet projected: real drift
    drift = reconcile(env.dynamodb, env.stack.table_name, env.search, prefix=env.prefix, settle_seconds=0)
    assert drift.indices[0].drift["missing"] == ["b"]


@pytest.mark.parametrize("entity", [LISTING, REVIEW])
def test_an_item_created_after_the_table_scan_is_not_an_orphan(ops_env: OpsEnv, entity: Entity) -> None:
    """The scan missed the item (created after it) but the index has it: the recheck by key clears it."""
    env = ops_env
    item = listing("late", new_version()) if entity is LISTING else review("l1", "late", new_version())
    env.put(item)
    env.writer().write_items([item])
    index = entity.index(env.prefix)
    env.search.indices.refresh(index=index)
    report, _ = compare(entity, index, {}, iter_versions(env.search, index))  # the scan saw nothing
    assert report.drift["orphaned"] == ["late" if entity is LISTING else "l1.late"]
    _recheck(env.dynamodb, env.stack.table_name, env.search, report, {})
    assert report.drift_count == 0


# -- one repair converges, with OpenSearch's default index.gc_deletes (60 s) --------------------------------

DEFAULT_GC_DELETES = pytest.mark.parametrize("ops_env", [{}], indirect=True, ids=["default-gc-deletes"])


def _raise_by(env: OpsEnv, doc_id: str, step: int) -> int:
    """Re-write a document unchanged at its external version + `step`, as a bug or an operator would."""
    doc = env.search.get(index=env.index(), id=doc_id)
    version = int(doc["_version"]) + step
    _write(env, doc_id, version, {**doc["_source"], "version": version})
    return version


@DEFAULT_GC_DELETES
def test_one_repair_converges_and_a_clean_reconcile_follows_at_once(
    ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = ops_env
    versions = {f"l{n}": env.put_listing(f"l{n}") for n in range(6)}
    env.put(review("l0", "r1", new_version()))
    backfill(env.dynamodb, env.stack.table_name, env.writer())

    env.search.delete(index=env.index(), id="l1")  # OpenSearch remembers the delete for gc_deletes
    env.search.delete(index=env.index("reviews"), id="l0.r1")  # a review's id names its listing too
    ahead = _raise_by(env, "l2", 5)  # the index holds a version the table never had
    _write(env, "ghost", 7, {"id": "ghost", "title": "ghost", "version": 7})  # no item: an orphan

    repaired = _reconcile_cli(env, "--repair", "--json")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr  # drift was found (and repaired)
    body = json.loads(repaired.stdout)
    assert body["drift"] == 4
    assert body["raised"] == ["Listing/l1", "Listing/l2", "Review/l0.r1"]
    assert body["repaired"] == {
        "written": 4, "stale": 0, "rejected": 0, "failed": 0, "skipped": 0, "raised": 3
    }  # fmt: skip

    clean = _reconcile_cli(env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().endswith("no drift")
    table = env.table_versions()
    assert env.live_versions(f"{env.prefix}listings") == table
    assert env.live_versions(f"{env.prefix}reviews") == env.table_versions("Review")
    # Versions only go up (docs/design.md §3): the raised items are above all the index ever held.
    assert table["l1"] > versions["l1"] + 1 and table["l2"] > ahead
    assert {k: v for k, v in table.items() if k not in ("l1", "l2")} == {
        k: v for k, v in versions.items() if k not in ("l1", "l2")
    }

    # Whatever the stream does next (here: all of it, replayed from the start) changes nothing.
    env.start_projector(monkeypatch)
    env.drain_projector()
    again = _reconcile_cli(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert env.live_versions(f"{env.prefix}listings") == table
    assert env.live_versions(f"{env.prefix}reviews") == env.table_versions("Review")


@DEFAULT_GC_DELETES
def test_more_raises_than_allowed_need_the_flag_first(ops_env: OpsEnv) -> None:
    """A restored table puts many items below their documents: raising them all is a deliberate step."""
    env = ops_env
    versions = {f"l{n}": env.put_listing(f"l{n}") for n in range(4)}
    backfill(env.dynamodb, env.stack.table_name, env.writer())
    for doc_id in ("l0", "l1", "l2"):
        _raise_by(env, doc_id, 5)
    env.put_listing("late")  # missing, and writable at its own version: repaired regardless

    refused = _reconcile_cli(env, "--repair", "--max-raises", "2")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "RaiseLimitExceeded: 3 items need a new version" in refused.stderr
    assert "--max-raises 3" in refused.stderr
    assert "NOT raised" in refused.stdout
    assert {k: v for k, v in env.table_versions().items() if k != "late"} == versions  # nothing raised
    still = _reconcile_cli(env, "--json")
    assert json.loads(still.stdout)["indices"][0]["ids"] == {"ahead": ["l0", "l1", "l2"]}

    allowed = _reconcile_cli(env, "--repair", "--max-raises", "3")
    assert allowed.returncode == 1, allowed.stdout + allowed.stderr
    clean = _reconcile_cli(env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert env.live_versions(f"{env.prefix}listings") == env.table_versions()


class _CommandDuringRepair:
    """A DynamoDB client on which a command updates the item just before the repair's first raise."""

    def __init__(self, env: OpsEnv, listing_id: str) -> None:
        self.env, self.listing_id, self.done = env, listing_id, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env.dynamodb, name)

    def update_item(self, **request: Any) -> Any:
        if not self.done:
            self.done = True
            current = int(request["ExpressionAttributeValues"][":old"]["N"])
            self.env.put_listing(self.listing_id, expected=current, title="Renamed meanwhile")
        return self.env.dynamodb.update_item(**request)


@DEFAULT_GC_DELETES
def test_a_raise_that_meets_a_concurrent_update_reads_the_item_again(ops_env: OpsEnv) -> None:
    env = ops_env
    env.put_listing("l0")
    backfill(env.dynamodb, env.stack.table_name, env.writer())
    env.search.delete(index=env.index(), id="l0")

    client = _CommandDuringRepair(env, "l0")
    writer = env.writer()
    report = reconcile(
        client, env.stack.table_name, env.search, writer, prefix=env.prefix, settle_seconds=0, repair=True
    )

    assert client.done and report.raised == ["Listing/l0"] and report.repair_complete
    stored = env.dynamodb.get_item(
        TableName=env.stack.table_name, Key={"pk": {"S": "LISTING#l0"}, "sk": {"S": "LISTING"}}
    )["Item"]
    assert stored["title"] == {"S": "Renamed meanwhile"}, "the repair kept the command's write"
    assert env.live_versions(f"{env.prefix}listings") == {"l0": int(stored["version"]["N"])}
    assert env.search.get(index=env.index(), id="l0")["_source"]["title"] == "Renamed meanwhile"
