"""Helpers for the web example's browser tests: the page's build and server (devstack/webpage.py, which
`make demo` uses too), and a runner that reports the Node browser tests (`node --test`, playwright-core
driving Debian's Chromium) through pytest."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from devstack import webpage
from devstack.webpage import PageServer

__all__ = ["ARTIFACTS", "CHROMIUM", "REPO", "WEB", "PageServer", "build_page", "run_browser_test"]

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def build_page() -> Path:
    """Type-check and build the page with Vite, as from a fresh clone; return web/dist."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (installs Debian's chromium package)")
    try:
        return webpage.build_page(WEB / "dist")
    except webpage.WebPageError as error:
        pytest.fail(str(error))


_SUMMARY = re.compile(r"^# (pass|fail|cancelled|skipped|todo) (\d+)$", re.MULTILINE)


def run_browser_test(name: str, env: dict[str, str], timeout: float = 150) -> dict[str, int]:
    """Run web/e2e/<name>.test.mjs with node's test runner; fail when it fails or runs no test.

    The TAP output is kept in test-artifacts/web/<name>.tap beside the screenshots.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH")
    # Its own process group, so a hung run is stopped with the Chromium it started.
    proc = subprocess.Popen(
        [node, "--test", "--test-reporter=tap", f"e2e/{name}.test.mjs"],
        cwd=WEB,
        env={**os.environ, "ARTIFACTS": str(ARTIFACTS), "CHROMIUM": CHROMIUM, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += f"\n(stopped after {timeout} s)"
    (ARTIFACTS / f"{name}.tap").write_text(stdout + stderr)
    counts = {kind: int(count) for kind, count in _SUMMARY.findall(stdout)}
    if proc.returncode != 0 or counts.get("fail") or counts.get("cancelled") or not counts.get("pass"):
        output = f"{stdout[-8000:]}\n{stderr[-3000:]}"
        pytest.fail(f"browser test {name} failed (exit {proc.returncode}):\n{output}")
    return counts
