"""Helpers for the web example's browser tests: a static server for the built page, and a runner that
reports the Node browser tests (`node --test`, playwright-core driving Debian's Chromium) through pytest."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class _Server(ThreadingHTTPServer):
    config_json: bytes | None = None


def _handler(dist: Path) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        server: _Server

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(dist), **kwargs)

        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/config.json":
                super().do_GET()
                return
            body = self.server.config_json
            if body is None:
                self.send_error(404, "no config.json")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


@dataclass
class PageServer:
    """Serves the built page on a free loopback port, with a config.json the test chooses."""

    dist: Path
    server: _Server = field(init=False)

    def __post_init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), _handler(self.dist))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def set_config(self, config: dict[str, Any] | None) -> None:
        self.server.config_json = None if config is None else json.dumps(config).encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def build_page() -> Path:
    """Type-check and build the page with Vite, as from a fresh clone; return web/dist."""
    for need, hint in (
        (WEB / "node_modules", "run `make test` (it runs npm ci in web/)"),
        (Path(CHROMIUM), "run `make chromium` (installs Debian's chromium package)"),
    ):
        if not need.exists():
            pytest.fail(f"{need} is missing: {hint}")
    proc = subprocess.run(["npm", "run", "--silent", "build"], cwd=WEB, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"web build failed:\n{proc.stdout}\n{proc.stderr}")
    return WEB / "dist"


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
