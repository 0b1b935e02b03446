"""The soak script's smoke run: a few hundred writes on its own local stack, with every kind of trouble.

The full soak (20,000 writes, scripts/soak.py's default) is a script, not a test; this run checks that the
script works end to end and that what it reports is real: writers did conflict, the proxy did inject
faults, the poller was restarted, the outage happened, the queues were redriven, and the drift is zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_soak_converges_with_conflicts_faults_restarts_and_an_outage(tmp_path: Path) -> None:
    command = [
        sys.executable, "scripts/soak.py", "--writes", "200", "--writers", "4", "--hot-keys", "4",
        "--hot-share", "0.5", "--restarts", "2", "--outage", "8", "--timeout", "60",
        "--state-dir", str(tmp_path / "stack"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    phases = [line.split()[1] for line in lines if line.startswith("phase ")]
    assert phases == ["start", "write", "drain", "redrive", "reconcile"], done.stdout
    summary = json.loads(lines[-1])

    assert summary["drift"] == 0 and summary["reconcile_exit"] == 0
    assert summary["converge_seconds"] is not None
    assert summary["writes"] >= 200
    kinds = summary["writes_by_kind"]
    assert kinds["create"] > 0 and kinds["update"] > 0 and kinds["delete"] > 0 and kinds["recreate"] > 0
    # Real conflicts from the resolvers, each followed by a re-read.
    assert summary["conflicts"] > 0 and summary["conflicts_by_kind"].get("ConflictError", 0) > 0
    assert summary["rereads"] >= summary["conflicts"] - summary["gave_up"]
    faults = summary["faults_injected"]
    assert faults["outages"] == 1 and summary["outage_seconds"] >= 8
    assert sum(faults[k] for k in ("status_429", "status_500", "timeout", "drop", "item_429")) > 0
    assert summary["restarts"] == 2
    # The poison ids' dead letters (and any batch the outage discarded) were redriven, none kept.
    queued = summary["queued"]["dead_letters"] + summary["queued"]["on_failure"]
    assert queued > 0 and summary["redrive"]["received"] == summary["redrive"]["deleted"] == queued
    assert summary["redrive"]["kept"] == 0
