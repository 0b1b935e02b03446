"""Backfill writes every item with its version, never regresses newer documents, resumes, and reports."""

from __future__ import annotations

import io
import json
import random
import threading
from collections.abc import Iterable

import pytest
from opshelpers import OpsEnv
from support.items import listing, review

from devstack.servers import free_port
from ops.backfill import BackfillIncomplete, backfill
from ops.errors import CheckpointError
from ops.progress import Progress
from ops.ratelimit import RateLimiter
from ops.writer import Item, ProjectionWriter, Tally
from stackclient.items import new_version


def _seed(env: OpsEnv, listings: int, reviews: int = 0) -> None:
    for n in range(listings):
        env.put(listing(f"l{n:04d}", new_version()))
    for n in range(reviews):
        env.put(review("l0000", f"r{n:03d}", new_version()))


def test_backfill_writes_every_item_and_reports(ops_env: OpsEnv) -> None:
    _seed(ops_env, 30, reviews=5)
    ops_env.put({**listing("broken", 1), "version": {"S": "not-a-number"}})  # cannot be projected
    ops_env.put({"pk": {"S": "CONFIG#x"}, "sk": {"S": "CONFIG"}, "type": {"S": "Config"}})  # not projected

    result = backfill(ops_env.dynamodb, ops_env.stack.table_name, ops_env.writer(), segments=3, page_size=7)

    assert result.scanned == 37
    assert result.tally.counts() == {"written": 35, "stale": 0, "rejected": 1, "failed": 0, "skipped": 1}
    assert result.tally.rejects[0]["code"] == "invalid_version"
    assert ops_env.live_versions(ops_env.index()) == ops_env.table_versions()
    assert ops_env.live_versions(ops_env.index("reviews")) == ops_env.table_versions("Review")
    assert "rejected 1" in result.text()

    again = backfill(ops_env.dynamodb, ops_env.stack.table_name, ops_env.writer(), segments=2)
    assert (again.tally.written, again.tally.stale) == (0, 35)  # same versions: nothing rewritten


def test_backfill_never_regresses_a_newer_document(ops_env: OpsEnv) -> None:
    old = new_version()
    ops_env.put(listing("l1", old, title="old title"))
    # The live projector already wrote a newer version than the one this backfill's scan reads.
    ops_env.writer().write_items([listing("l1", old + 5, title="new title")])

    result = backfill(ops_env.dynamodb, ops_env.stack.table_name, ops_env.writer())

    assert result.tally.stale == 1 and result.tally.written == 0
    doc = ops_env.search.get(index=ops_env.index(), id="l1")
    assert (doc["_version"], doc["_source"]["title"]) == (old + 5, "new title")


class _StopAfter(ProjectionWriter):
    """Interrupts the backfill (like Ctrl-C) after a number of pages."""

    def __init__(self, inner: ProjectionWriter, pages: int, stop: threading.Event) -> None:
        super().__init__(inner.transport, inner.targets, inner.write_seconds)
        self.pages, self.stop = pages, stop

    def write_items(self, items: Iterable[Item]) -> Tally:
        tally = super().write_items(items)
        self.pages -= 1
        if self.pages <= 0:
            self.stop.set()
        return tally


def test_backfill_resumes_from_its_checkpoint(ops_env: OpsEnv) -> None:
    _seed(ops_env, 60)
    checkpoint = ops_env.tmp / "backfill.json"
    stop = threading.Event()
    first = backfill(
        ops_env.dynamodb,
        ops_env.stack.table_name,
        _StopAfter(ops_env.writer(), 3, stop),
        segments=2,
        page_size=10,
        checkpoint_path=checkpoint,
        stop=stop,
    )
    saved = json.loads(checkpoint.read_text())
    assert 0 < first.scanned < 60
    assert sum(segment["items"] for segment in saved["segments"]) == first.scanned

    second = backfill(
        ops_env.dynamodb, ops_env.stack.table_name, ops_env.writer(), segments=2, checkpoint_path=checkpoint
    )

    assert second.resumed_from == first.scanned
    assert first.scanned + second.scanned == 60  # nothing scanned twice: every finished page was saved
    assert not checkpoint.exists()  # a finished run leaves no checkpoint behind
    assert ops_env.live_versions(ops_env.index()) == ops_env.table_versions()


def test_backfill_keeps_its_checkpoint_when_opensearch_is_down(ops_env: OpsEnv) -> None:
    _seed(ops_env, 12)
    checkpoint = ops_env.tmp / "backfill.json"
    down = ops_env.writer(write_seconds=0.5)
    down.transport = type(down.transport)(f"http://127.0.0.1:{free_port()}", connect_timeout=0.2)

    with pytest.raises(BackfillIncomplete, match="rerun with the same --checkpoint"):
        backfill(ops_env.dynamodb, ops_env.stack.table_name, down, segments=2, checkpoint_path=checkpoint)
    assert not any(segment["done"] for segment in json.loads(checkpoint.read_text())["segments"])
    assert ops_env.live_versions(ops_env.index()) == {}

    result = backfill(
        ops_env.dynamodb, ops_env.stack.table_name, ops_env.writer(), segments=2, checkpoint_path=checkpoint
    )
    assert result.tally.written == 12
    assert ops_env.live_versions(ops_env.index()) == ops_env.table_versions()


def test_a_checkpoint_of_another_job_is_refused(ops_env: OpsEnv) -> None:
    checkpoint = ops_env.tmp / "backfill.json"
    checkpoint.write_text(json.dumps({"job": "backfill other -> x", "segments": [{"last_key": None}]}))
    with pytest.raises(CheckpointError, match="delete it to start over"):
        backfill(
            ops_env.dynamodb,
            ops_env.stack.table_name,
            ops_env.writer(),
            segments=1,
            checkpoint_path=checkpoint,
        )
    checkpoint.write_text("{half")
    with pytest.raises(CheckpointError, match="unreadable"):
        backfill(
            ops_env.dynamodb,
            ops_env.stack.table_name,
            ops_env.writer(),
            segments=1,
            checkpoint_path=checkpoint,
        )


def test_rate_limiter_spaces_out_units() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(50, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter.acquire(10)  # 100 units at 50/s: the first 50 are the burst, the rest take 1 s
    assert now[0] == pytest.approx(1.0, abs=0.01)
    unlimited = RateLimiter(None, clock=lambda: now[0], sleep=sleep)
    before = len(slept)
    unlimited.acquire(10_000)
    assert len(slept) == before


def test_progress_reports_counts() -> None:
    out = io.StringIO()
    progress = Progress("backfill", total=10, stream=out, interval=0)
    progress.add(4, written=3, stale=1)
    progress.add(6, written=6)
    progress.close()
    assert out.getvalue().splitlines()[-1].startswith("backfill: 10/10 items")
    assert "stale 1, written 9" in out.getvalue()
    assert Progress("idle", stream=io.StringIO()).line() == "idle: 0 items, 0/s"


def test_backfill_racing_a_live_writer_ends_equal_to_the_table(
    ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = ops_env
    live = {f"l{n:03d}": env.put_listing(f"l{n:03d}") for n in range(150)}
    poller = env.start_projector(monkeypatch)
    # The index is lost (recreated empty) while the projector keeps running: the backfill rebuilds it.
    env.drain_projector()
    env.search.delete_by_query(
        index=env.index(), body={"query": {"match_all": {}}}, params={"refresh": "true"}
    )
    assert env.live_versions(env.index()) == {}
    poller = env.start_projector(monkeypatch)

    done = threading.Event()

    def write_loop() -> None:
        rng = random.Random(3)
        for n in range(200):
            key = rng.choice(sorted(live))
            if rng.random() < 0.2:
                env.delete_listing(key)
                live.pop(key)
                live[f"n{n:03d}"] = env.put_listing(f"n{n:03d}")
            else:
                live[key] = env.put_listing(key, expected=live[key], title=f"live update {n}")
        done.set()

    writer_thread = threading.Thread(target=write_loop)
    writer_thread.start()
    result = backfill(env.dynamodb, env.stack.table_name, env.writer(), segments=3, page_size=20, rate=400)
    writer_thread.join(60)
    assert done.is_set()
    env.drain_projector()

    assert result.scanned >= 150 and result.tally.failed == 0
    assert env.live_versions(env.index()) == live == env.table_versions()
    assert poller.invocations > 0
