"""Runs the Node unit tests of the resolvers and the runtime (`node --test tests/api/node`) on the local
runtime, and fails when any of them fails."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REGISTER = REPO / "devstack" / "appsync" / "runtime" / "register.mjs"
MIN_TESTS = 30  # the suite's size when written: fewer means tests were lost, not passed


def test_node_unit_tests_pass() -> None:
    run = subprocess.run(
        ["node", "--import", REGISTER.as_uri(), "--test", "--test-reporter=tap", "tests/api/node/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    counts = {
        name: int(n) for name, n in re.findall(r"^# (pass|fail|cancelled) (\d+)$", run.stdout, re.MULTILINE)
    }
    failures = "\n".join(line for line in run.stdout.splitlines() if line.startswith("not ok"))
    print(f"node --test: {counts}")
    assert run.returncode == 0, (
        f"node --test failed {counts}:\n{failures}\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    )
    assert counts.get("fail") == 0 and counts.get("cancelled", 0) == 0, counts
    assert counts.get("pass", 0) >= MIN_TESTS, counts
