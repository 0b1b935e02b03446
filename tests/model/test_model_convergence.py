"""Model-based convergence test: random writes and a misbehaving stream, then the read side must equal the
table (tests/model/pipeline_model.py has the model and its invariants).

Budget in CI: `MODEL_EXAMPLES` examples (default 25) of `MODEL_STEPS` steps (default 30), derandomized
when `CI` is set, so a CI failure reproduces with the same command. Elsewhere each run draws a new seed
and prints it; `MODEL_SEED=<seed>` replays it. A failure prints the minimal failing program (the steps,
as Python) and a `@reproduce_failure` blob. A larger run:

    MODEL_EXAMPLES=500 .venv/bin/pytest tests/model -k convergence -s
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import get_state_machine_test
from pipeline_model import World, machine_factory

from devstack.faultproxy import FaultProxy
from devstack.servers import ChildServer
from projector import identity, stream

MODEL_EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", "25"))
MODEL_STEPS = int(os.environ.get("MODEL_STEPS", "30"))
IN_CI = bool(os.environ.get("CI"))


def model_settings(max_examples: int, **overrides: Any) -> settings:
    return settings(
        max_examples=max_examples,
        stateful_step_count=MODEL_STEPS,
        derandomize=IN_CI,
        deadline=None,  # steps talk to servers; their time says nothing about correctness
        print_blob=True,
        # No example database: the two tests below share Hypothesis's inner test function, and the
        # broken projector's counterexamples must not be replayed against the real one (or the reverse).
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        **overrides,
    )


def run_model(world: World, config: settings) -> None:
    # get_state_machine_test is run_state_machine_as_test without the call, so a seed can be set on it.
    test = get_state_machine_test(machine_factory(world), settings=config)
    if not IN_CI:
        chosen = int(os.environ.get("MODEL_SEED") or random.randrange(2**32))
        print(f"model: seed {chosen} (replay: MODEL_SEED={chosen})")
        seed(chosen)(test)
    test()


@pytest.fixture
def world(
    moto_server: ChildServer, osmem: ChildServer, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> World:
    return World(moto_server.url, osmem.url, fault_proxy, monkeypatch)


def _summary(tally: Mapping[str, int], seconds: float) -> str:
    return f"model: {seconds:.1f} s, " + ", ".join(f"{name} {tally[name]}" for name in sorted(tally))


@pytest.mark.slow
def test_model_convergence(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    run_model(world, model_settings(MODEL_EXAMPLES))
    tally = world.tally
    with capsys.disabled():
        print("\n" + _summary(tally, time.monotonic() - started))
    # The run proved something only if it met what it claims to test.
    assert tally.get("examples", 0) >= MODEL_EXAMPLES
    for seen in ("delete", "update", "late_replay", "duplicate", "fault_outage", "reported_failed"):
        assert tally.get(seen, 0) > 0, f"no {seen} in {MODEL_EXAMPLES} examples: {tally}"


@pytest.mark.slow
def test_model_catches_a_projector_without_working_tombstones(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same machine against a broken projector: tombstones written at the deleted item's version
    instead of version + 1, so OpenSearch refuses them (409, counted as stale) and the document stays
    searchable. Hypothesis must find a counterexample."""

    def tombstone_off_by_one(record: Mapping[str, Any]) -> identity.Identity | None:
        found = identity.identify(record)
        if found is None or not found[4]:
            return found
        entity, doc_id, version, image, tombstone = found
        return entity, doc_id, version - 1, image, tombstone

    monkeypatch.setattr(stream, "identify", tombstone_off_by_one)
    # No shrinking: a minimal program is for a person reading a real failure; here finding one is enough.
    config = model_settings(MODEL_EXAMPLES, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    with pytest.raises(AssertionError) as caught:
        run_model(world, config)
    message = str(caught.value)
    assert "the record was dropped" in message or "searchable again" in message, message
