"""The smoke test's steps and exit codes against a scripted API, and reconcile by key on real servers.

The whole command against the local stack: tests/local/test_local_smoke.py.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from opshelpers import OpsEnv, run_script
from support.items import review

from ops.backfill import backfill
from ops.reconcile import KeyCheck, reconcile_key
from ops.smoke import CANARY_ID, RESERVED_OWNER, SmokeTest, StepFailed, describe_drift
from projector.entities import LISTING, REVIEW


class Unreachable(Exception):
    pass


class Refused(Exception):
    pass


class FakeApi:
    """An API whose search shows a write only after `lag` searches (and never, with `lag=None`)."""

    def __init__(self, lag: int | None = 1) -> None:
        self.lag = lag
        self.items: dict[str, dict[str, Any]] = {}
        self.shown: dict[str, dict[str, Any]] = {}
        self.pending: list[tuple[int, str, dict[str, Any] | None]] = []
        self.searches = 0
        self.version = 1_000_000
        self.down = False

    def _write(self, listing_id: str, item: dict[str, Any] | None) -> None:
        if item is None:
            self.items.pop(listing_id, None)
        else:
            self.items[listing_id] = item
        if self.lag is not None:
            self.pending.append((self.searches + self.lag, listing_id, item))

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.down:
            raise Unreachable("connection refused")
        variables = variables or {}
        given = variables.get("input", {})
        if "SmokeGet" in query:
            return {"getListing": self.items.get(variables["id"])}
        if "SmokeSearch" in query:
            self.searches += 1
            for when, listing_id, item in [p for p in self.pending if p[0] <= self.searches]:
                self.pending.remove((when, listing_id, item))
                if item is None:
                    self.shown.pop(listing_id, None)
                else:
                    self.shown[listing_id] = dict(item)
            items = [i for i in self.shown.values() if i["owner"] == variables["owner"]]
            return {"searchListings": {"items": items}}
        self.version += 1000
        if "SmokeCreate" in query:
            item = {
                "id": given["id"],
                "title": given["title"],
                "owner": given["owner"],
                "version": str(self.version),
            }
            self._write(given["id"], item)
            return {"createListing": item}
        current = self.items.get(given["id"])
        if current is None or current["version"] != given["expectedVersion"]:
            raise Refused(f"ConflictError: {given['id']} is at {current and current['version']}")
        if "SmokeUpdate" in query:
            item = {**current, "title": given["title"], "version": str(self.version)}
            self._write(given["id"], item)
            return {"updateListing": item}
        self._write(given["id"], None)
        return {"deleteListing": current}


class Clock:
    """Time that moves only when the smoke test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def smoke(api: FakeApi, drift: list[str] | None = None, timeout_s: float = 60.0) -> tuple[SmokeTest, Clock]:
    clock = Clock()
    test = SmokeTest(
        api,
        lambda doc_id: list(drift or []),
        unreachable=(Unreachable,),
        failures=(Refused,),
        timeout_s=timeout_s,
        out=io.StringIO(),
        clock=clock,
        sleep=clock.sleep,
    )
    return test, clock


def lines(test: SmokeTest) -> list[str]:
    assert isinstance(test.out, io.StringIO)
    return test.out.getvalue().splitlines()


def test_every_step_passes_and_prints_one_line_with_its_time() -> None:
    api = FakeApi(lag=2)
    test, _ = smoke(api)
    report = test.run()
    assert report.exit_code == 0
    assert [line.split()[:2] for line in lines(test)[:-1]] == [
        [step, "ok"]
        for step in ("cleanup", "create", "visible", "update", "updated", "delete", "gone", "reconcile")
    ]
    assert all(line.split()[3] == "s" and float(line.split()[2]) >= 0 for line in lines(test)[:-1])
    assert lines(test)[-1].startswith("smoke passed: 8 steps in ")
    assert CANARY_ID not in api.items and CANARY_ID not in api.shown


def test_a_projection_that_never_arrives_fails_visible_within_the_timeout_and_leaves_the_canary() -> None:
    api = FakeApi(lag=None)
    test, clock = smoke(api, timeout_s=5)
    report = test.run()
    assert report.exit_code == 1
    failed = lines(test)[-2]
    assert failed.startswith("visible   FAIL")
    assert (
        f"search did not show {CANARY_ID} at version" in failed
        and "(waited 5 s; last seen: absent)" in failed
    )
    assert clock.now <= 5 and len(clock.slept) > 3  # polled, with back-off, never past the bound
    assert lines(test)[-1].startswith("smoke failed at step visible")
    assert api.items[CANARY_ID]["owner"] == RESERVED_OWNER  # left for whoever investigates

    api.lag = 1
    again, _ = smoke(api)
    assert again.run().exit_code == 0
    assert "removed a leftover canary" in lines(again)[0]


def test_a_listing_of_someone_else_under_the_canary_id_is_not_touched() -> None:
    api = FakeApi()
    api.items[CANARY_ID] = {"id": CANARY_ID, "title": "mine", "owner": "alice", "version": "7"}
    test, _ = smoke(api)
    assert test.run().exit_code == 1
    assert "belongs to 'alice', not the reserved owner" in lines(test)[0]
    assert api.items[CANARY_ID]["owner"] == "alice"


def test_an_unreachable_api_means_the_test_could_not_run() -> None:
    api = FakeApi()
    api.down = True
    test, _ = smoke(api)
    assert test.run().exit_code == 2
    assert lines(test)[0].startswith("cleanup   FAIL") and "Unreachable: connection refused" in lines(test)[0]
    assert lines(test)[-1].startswith("smoke could not run at step cleanup")


def test_drift_found_by_the_reconcile_step_fails_it() -> None:
    test, _ = smoke(FakeApi(), drift=["listings-v1: orphaned (table version None, index version 9)"])
    report = test.run()
    assert report.exit_code == 1 and report.steps[-1].step == "reconcile"
    assert "orphaned" in lines(test)[-2]
    assert report.as_json()["steps"][-1]["ok"] is False


def test_a_wrong_update_version_is_a_failed_check() -> None:
    api = FakeApi()
    test, _ = smoke(api)
    version = {"created": "5"}
    api.version = -10_000  # the API hands out a version below the created one
    api.items[CANARY_ID] = {"id": CANARY_ID, "title": "t", "owner": RESERVED_OWNER, "version": "5"}
    with pytest.raises(StepFailed, match="not above 5"):
        test._update("token", version)


# ------------------------------------------------------------------------ reconcile by key, real servers


def test_reconcile_key_reports_each_index_and_drift_kind(ops_env: OpsEnv) -> None:
    env = ops_env
    env.put_listing("k1")
    env.put(review("k1", "r1", 5))  # its id: k1.r1
    backfill(env.dynamodb, env.stack.table_name, env.writer())

    def check(doc_id: str) -> list[KeyCheck]:
        return reconcile_key(env.dynamodb, env.stack.table_name, env.search, LISTING, doc_id, env.prefix)

    [agreed] = check("k1")
    assert agreed.index == env.index() and agreed.kind is None
    assert agreed.table_version == agreed.index_version and describe_drift([agreed]) == []

    env.search.delete(index=env.index(), id="k1")
    [missing] = check("k1")
    assert (missing.kind, missing.index_version) == ("missing", None)

    backfill(env.dynamodb, env.stack.table_name, env.writer())
    env.delete_listing("k1")  # the item goes; its live document stays (no projector running here)
    [orphan] = check("k1")
    assert orphan.kind == "orphaned" and orphan.table_version is None
    assert describe_drift([orphan]) == [
        f"{env.index()}: orphaned (table version None, index version {orphan.index_version})"
    ]

    assert check("never-written")[0].kind is None  # no item, no document: nothing to reconcile

    review_checks = reconcile_key(
        env.dynamodb, env.stack.table_name, env.search, REVIEW, "k1.r1", env.prefix, listing_id="k1"
    )
    assert [(c.index, c.kind, c.table_version) for c in review_checks] == [(env.index("reviews"), None, 5)]
    alone = reconcile_key(env.dynamodb, env.stack.table_name, env.search, REVIEW, "k1.r1", env.prefix)
    assert [(c.kind, c.table_version) for c in alone] == [(None, 5)]  # the id names the key by itself
    with pytest.raises(ValueError, match=r"is not <listingId>\.<author>"):
        reconcile_key(env.dynamodb, env.stack.table_name, env.search, REVIEW, "r1", env.prefix)
    with pytest.raises(ValueError, match="does not belong to listing"):
        reconcile_key(env.dynamodb, env.stack.table_name, env.search, REVIEW, "k1.r1", env.prefix, "k2")
    with pytest.raises(LookupError, match="does not exist"):
        reconcile_key(env.dynamodb, env.stack.table_name, env.search, LISTING, "k1", "no-such-prefix-")


def test_reconcile_command_by_id_checks_only_those_keys(ops_env: OpsEnv) -> None:
    env = ops_env
    version = env.put_listing("c1")
    env.put_listing("c2")
    backfill(env.dynamodb, env.stack.table_name, env.writer())
    env.search.delete(index=env.index(), id="c2")

    clean = run_script(env, "reconcile.py", "--entity", "listings", "--id", "c1")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines() == [
        f"{env.index():<24} c1: in step (table {version}, index {version})",
        "no drift",
    ]
    drifted = run_script(env, "reconcile.py", "-e", "listings", "-i", "c1", "-i", "c2", "--json")
    assert drifted.returncode == 1, drifted.stderr
    body = json.loads(drifted.stdout)
    assert body["drift"] == 1 and [(c["doc_id"], c["kind"]) for c in body["checks"]] == [
        ("c1", None),
        ("c2", "missing"),
    ]
    review = run_script(env, "reconcile.py", "-e", "reviews", "-i", "r9")
    assert review.returncode == 2 and "OpsError: Review id 'r9' is not <listingId>.<author>" in review.stderr
    usage = run_script(env, "reconcile.py", "-i", "c1")
    assert usage.returncode == 2 and "--id needs exactly one --entity" in usage.stderr
