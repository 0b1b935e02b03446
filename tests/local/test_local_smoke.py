"""`scripts/smoke.py` on the whole local stack: it passes, names a stalled projection, cleans up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import LocalStack, StackOptions

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
STEPS = ("cleanup", "create", "visible", "update", "updated", "delete", "gone", "reconcile")
LINE = re.compile(r"^(\w+) +(ok|FAIL) +(\d+\.\d\d) s  (.+)$")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(StackOptions(state_dir=tmp_path_factory.mktemp("dev")))
    local.start()
    yield local
    local.stop()


def smoke(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/smoke.py"), *arguments],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )  # fmt: skip


def steps(output: str) -> list[tuple[str, str, float, str]]:
    """(step, ok|FAIL, seconds, detail) of every step line."""
    return [(m[1], m[2], float(m[3]), m[4]) for line in output.splitlines() if (m := LINE.match(line))]


def test_smoke_passes_on_a_healthy_stack(stack: LocalStack) -> None:
    done = smoke("--stack-file", str(stack.stack_file))
    assert done.returncode == 0, done.stdout + done.stderr
    found = steps(done.stdout)
    assert [(step, status) for step, status, _, _ in found] == [(step, "ok") for step in STEPS]
    assert all(0 <= seconds < 30 for _, _, seconds, _ in found)
    assert done.stdout.splitlines()[0] == f"smoke test of {stack.stack_file}: {stack.info['graphql_url']}"
    assert re.search(r"^smoke passed: 8 steps in \d+\.\d\d s$", done.stdout, re.M)
    assert found[-1][3] == "no drift for LISTING#smoke-canary"


def test_a_stopped_poller_fails_the_visible_step_and_the_next_run_removes_the_canary(
    stack: LocalStack,
) -> None:
    poller = stack.children["poller"].pid
    os.kill(poller, signal.SIGSTOP)  # stream records pile up unprojected; the stack's supervisor sees no exit
    try:
        failed = smoke("--stack-file", str(stack.stack_file), "--timeout", "3")
    finally:
        os.kill(poller, signal.SIGCONT)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    found = steps(failed.stdout)
    assert [(step, status) for step, status, _, _ in found] == [
        ("cleanup", "ok"), ("create", "ok"), ("visible", "FAIL")
    ]  # fmt: skip
    assert found[2][2] <= 3.5 and "search did not show smoke-canary at version" in found[2][3]
    assert "smoke failed at step visible" in failed.stdout

    # The poller catches up; the next run finds the canary the failed one left and removes it first.
    again = smoke("--stack-file", str(stack.stack_file), "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert steps(again.stderr)[0][:2] == ("cleanup", "ok")
    assert steps(again.stderr)[0][3].startswith("removed a leftover canary (version ")
    assert '"exit_code": 0' in again.stdout


def test_without_a_stack_the_smoke_test_cannot_run(tmp_path: Path) -> None:
    done = smoke("--stack-file", str(tmp_path / "stack.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("StackNotFoundError: ") and done.stdout == ""
