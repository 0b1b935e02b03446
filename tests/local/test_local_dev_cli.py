"""`scripts/dev.py` as a user runs it: up --detach, status, down, and a crashed child bringing it all down."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devstack.stack import LocalStack, StackError, StackOptions, pid_alive

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def dev(state_dir: Path, *args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/dev.py"), "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_gone(pids: list[int], timeout_s: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if pid_alive(pid)]


def test_detached_stack_status_and_down(tmp_path: Path) -> None:
    started = dev(tmp_path, "up", "--detach")
    assert started.returncode == 0, started.stderr
    first = json.loads((tmp_path / "stack.json").read_text())["pids"]
    second: dict[str, int] = {}
    try:
        assert "GraphQL" in started.stdout
        status = dev(tmp_path, "status")
        assert status.returncode == 0 and status.stdout.count("running") == 5
        again = dev(tmp_path, "up", "--detach")
        assert again.returncode == 1 and "already running" in again.stderr

        # The supervisor dies without cleaning up: the next `up` stops what it left behind.
        os.kill(first["supervisor"], signal.SIGKILL)
        restarted = dev(tmp_path, "up", "--detach")
        assert restarted.returncode == 0, restarted.stderr
        assert "stopped leftovers of an earlier stack" in restarted.stdout
        assert wait_gone(list(first.values())) == []
        second = json.loads((tmp_path / "stack.json").read_text())["pids"]

        stopped = dev(tmp_path, "down")
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert wait_gone(list(second.values())) == []  # no orphans
        assert not (tmp_path / "stack.json").exists()
        assert dev(tmp_path, "status").returncode == 1
    finally:
        for pid in [*first.values(), *second.values()]:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_crashed_child_brings_the_stack_down_with_a_message(tmp_path: Path) -> None:
    stack = LocalStack(StackOptions(state_dir=tmp_path, appsync=False))
    stack.start()
    osmem = stack.children["osmem"].pid
    threading.Timer(0.3, os.kill, (osmem, signal.SIGKILL)).start()
    out = io.StringIO()

    assert stack.supervise(out) == 1

    assert f"osmem (pid {osmem}) exited with code -9; stopping the stack" in out.getvalue()
    assert [name for name, child in stack.children.items() if child.alive()] == []
    assert not (tmp_path / "stack.json").exists()


def test_a_failed_start_says_why_and_leaves_nothing_running(tmp_path: Path) -> None:
    stack = LocalStack(
        StackOptions(state_dir=tmp_path, appsync=False, handler="projector.no_such_module.handler")
    )
    with pytest.raises(StackError, match=r"(?s)poller exited during start-up with code 1;.*No module named"):
        stack.start()
    assert [name for name, child in stack.children.items() if child.alive()] == []
    assert not (tmp_path / "stack.json").exists()


def test_status_without_a_stack(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text("{not json")  # a torn leftover is no stack
    result = dev(tmp_path, "status")
    assert result.returncode == 1 and "no local stack" in result.stdout
