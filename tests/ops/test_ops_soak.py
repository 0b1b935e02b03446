"""Soak: random creates, updates and deletes through the real projector while OpenSearch misbehaves.

A fault-injecting proxy in front of osmem answers `_bulk` with 429s, 500s, time-outs, dropped connections
and per-item 429s, and a few documents always fail with 400 (poison, to the dead-letter queue); the stream
poller is restarted now and then (cold starts included). Then the cause is fixed, the stream drains,
redrive empties both queues and reconcile must report zero drift: every write ends projected, or in a
queue and then redriven.

CI runs a small size; a larger run: `OPS_SOAK_SIZE=20000 .venv/bin/pytest tests/ops/test_ops_soak.py -s`.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter

import pytest
from opshelpers import OpsEnv

from devstack.definitions import EsmSettings
from devstack.faultproxy import FaultProxy, Faults
from ops.reconcile import reconcile
from ops.redrive import Redriver
from stackclient.stack import streams_client

SOAK_SIZE = int(os.environ.get("OPS_SOAK_SIZE", "800"))
POISON_IDS = tuple(f"s{n:04d}" for n in range(0, 40, 7))
FUNCTION_TIMEOUT = 4.0
OUTAGE_SECONDS = 8.0


@pytest.mark.slow
def test_soak_converges_to_zero_drift(
    ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ops_env
    rng = random.Random(20261129)
    keys = max(50, SOAK_SIZE // 4)
    # First half: whole-request 429/500/time-outs/drops and per-item 429s (all retryable).
    faults = Faults(
        status_429=0.10, status_500=0.05, timeout=0.02, drop=0.02, item_failure=0.05, item_status=429,
        hang_seconds=1.0,
    )  # fmt: skip
    # Two retries and a 4 s function (2 s of it kept in reserve by the projector): an outage of a few
    # seconds exhausts a batch's retries, so the on-failure destination gets metadata-only messages too.
    settings = EsmSettings(**{**EsmSettings.from_definition().__dict__, "maximum_retry_attempts": 2})
    started = time.monotonic()
    with FaultProxy(env.stack.search_endpoint, faults, seed=7) as proxy:
        env.start_projector(
            monkeypatch, search_endpoint=proxy.url, settings=settings, function_timeout=FUNCTION_TIMEOUT
        )
        live: dict[str, int] = {}
        writes: Counter[str] = Counter()
        restarts = 0
        for n in range(SOAK_SIZE):
            key = f"s{rng.randrange(keys):04d}"
            if key not in live:
                live[key] = env.put_listing(key)
                writes["create"] += 1
            elif rng.random() < 0.25:
                env.delete_listing(key)
                del live[key]
                writes["delete"] += 1
            else:
                live[key] = env.put_listing(key, expected=live[key], title=f"update {n}")
                writes["update"] += 1
            if n == SOAK_SIZE // 2:
                # Second half: a few documents are refused with 400 (poison, to the dead-letter queue).
                proxy.set(item_failure=0.0, fail_ids=POISON_IDS, item_status=400)
            if n == 3 * SOAK_SIZE // 4 + 1:
                # An outage: every _bulk answers 500 until the batch in flight runs out of retries.
                proxy.set(status_500=1.0)
                time.sleep(OUTAGE_SECONDS)
                proxy.set(status_500=0.05)
            if n and n % max(1, SOAK_SIZE // 4) == 0:
                env.stop_projector()  # a restart mid-stream: the next poller resumes from the checkpoint
                env.start_projector(
                    monkeypatch,
                    search_endpoint=proxy.url,
                    settings=settings,
                    function_timeout=FUNCTION_TIMEOUT,
                )
                restarts += 1
        written_at = time.monotonic()
        # Fix the cause, then let the stream drain through the same proxy (now clean).
        proxy.clear()
        env.drain_projector(timeout=120)
        drained_at = time.monotonic()
        injected = {kind: count for kind, count in proxy.stats.items() if kind != "forwarded"}

    dead_letters = env.queue_depth(env.stack.dead_letter_queue_url)
    on_failure = env.queue_depth(env.stack.on_failure_queue_url or "")
    redriver = Redriver(
        env.dynamodb, env.stack.table_name, env.sqs, streams_client(env.stack), env.search, env.writer(),
        prefix=env.prefix,
    )  # fmt: skip
    poisoned = redriver.run([env.stack.dead_letter_queue_url])
    unfinished = redriver.run([env.stack.on_failure_queue_url or ""])
    report = reconcile(env.dynamodb, env.stack.table_name, env.search, prefix=env.prefix, settle_seconds=0)
    converged_at = time.monotonic()

    with capsys.disabled():
        print(
            f"\nsoak: {SOAK_SIZE} writes {dict(writes)} over {keys} keys in {written_at - started:.1f} s; "
            f"{restarts} poller restarts; faults injected {injected}\n"
            f"soak: stream drained {drained_at - written_at:.1f} s after the last write; dead letters "
            f"{dead_letters}, on-failure messages {on_failure}; redrive deleted {poisoned.deleted}/"
            f"{poisoned.received} dead letters ({dict(poisoned.outcomes)}) and {unfinished.deleted}/"
            f"{unfinished.received} on-failure messages ({unfinished.keys} keys from the stream: "
            f"{dict(unfinished.outcomes)})\n"
            f"soak: converged (reconcile: {report.drift_count} drift) "
            f"{converged_at - written_at:.1f} s after the last write"
        )
    assert sum(injected.values()) > 0, "the proxy injected no faults: the soak proved nothing"
    assert dead_letters >= 1, "the poison ids never reached the dead-letter queue"
    assert on_failure >= 1, "the outage never exhausted a batch's retries"
    assert poisoned.kept == unfinished.kept == 0
    assert (poisoned.deleted, unfinished.deleted) == (dead_letters, on_failure)
    assert unfinished.keys > 0 and not unfinished.reconciled  # keys re-read from the stream range
    # Only the documents the proxy refused with 400 failed for good: every other write was retried until
    # it landed or its batch went to the on-failure queue, so the dead letters name only poison ids.
    redriven = {re.search(r"s\d{4}", entry["key"]).group(0) for entry in poisoned.plan}  # type: ignore[union-attr]
    assert redriven and redriven <= set(POISON_IDS)
    assert env.queue_depth(env.stack.dead_letter_queue_url) == 0
    assert env.queue_depth(env.stack.on_failure_queue_url or "") == 0
    assert report.drift_count == 0, report.text()
    assert env.live_versions(f"{env.prefix}listings") == live == env.table_versions()
