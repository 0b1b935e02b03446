"""Drift injected by hand is found exactly by reconcile, fixed by --repair, and then reconcile is clean."""

from __future__ import annotations

import json
import subprocess

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
    assert report.drift["orphaned"] == ["late"]
    _recheck(env.dynamodb, env.stack.table_name, env.search, report, {})
    assert report.drift_count == 0
