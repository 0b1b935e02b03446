"""`make demo`'s web page: `scripts/dev.py demo` builds the page, serves it on a free loopback port and
prints its URL, a demo user and how to trust the stack's https endpoint. These tests take the printout at
its word: they fetch the page and its config.json over HTTP, open it in headless Chromium with the printed
trust flag, sign in as the printed user, and then stop the demo the way a user does (Ctrl-C)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web_support import REPO, run_browser_test

from devstack.stack import pid_alive
from devstack.webpage import WebPageError, page_config

pytestmark = pytest.mark.slow
SEED_LIMIT = 40
PRINTED = {
    "url": re.compile(r"^  web page  (http://127\.0\.0\.1:\d+/)$", re.MULTILINE),
    "users": re.compile(r"^  sign in   as (\w+) .*sign in as (\w+) in a second window", re.MULTILINE),
    "ca_file": re.compile(r"CA made for this stack, (\S+): import it", re.MULTILINE),
    "spki": re.compile(r"--ignore-certificate-errors-spki-list=(\S+) http://", re.MULTILINE),
}


@dataclass
class Demo:
    process: subprocess.Popen[str]
    incoming: queue.Queue[str | None]
    lines: list[str]
    state_dir: Path
    printed: dict[str, str]
    other_user: str
    seconds_to_url: float

    def output_to_the_end(self) -> str:
        """Everything it printed, once it has exited."""
        while (line := self.incoming.get(timeout=10)) is not None:
            self.lines.append(line)
        return "".join(self.lines)


def _reader(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`scripts/dev.py demo` with its state in a temporary folder, running until its printout ends."""
    state_dir = tmp_path_factory.mktemp("demo")
    argv = [
        sys.executable,
        "scripts/dev.py",
        "--state-dir",
        str(state_dir),
        "demo",
        "--limit",
        str(SEED_LIMIT),
    ]
    started = time.monotonic()
    # Its own process group: Ctrl-C in a terminal signals the whole group, and so do the tests.
    process = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    incoming: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(process, incoming), daemon=True).start()
    lines: list[str] = []
    try:
        deadline = started + 300
        while not any(line.startswith("  details") for line in lines):
            try:
                line = incoming.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("the demo printed no URL within 300 s:\n" + "".join(lines))
            if line is None:
                pytest.fail(f"the demo exited ({process.wait()}) before serving:\n" + "".join(lines))
            lines.append(line)
        seconds = time.monotonic() - started
        text = "".join(lines)
        found = {key: pattern.search(text) for key, pattern in PRINTED.items()}
        missing = [key for key, match in found.items() if match is None]
        assert not missing, f"the printout lacks {missing}:\n{text}"
        users = found["users"]
        assert users is not None
        printed = {key: match.group(1) for key, match in found.items() if match is not None}
        yield Demo(process, incoming, lines, state_dir, printed, users.group(2), seconds)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _stack(demo: Demo) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((demo.state_dir / "stack.json").read_text())
    return info


def test_the_demo_serves_the_built_page_and_its_config(demo: Demo) -> None:
    print(f"the demo printed the page's URL {demo.seconds_to_url:.1f} s after it started")
    url = demo.printed["url"]
    status, kind, body = _get(url)
    assert status == 200 and kind.startswith("text/html")
    page = body.decode()
    assert "<title>Listings" in page
    # The built page, not the source: its script is a bundle the server has.
    script = re.search(r'<script type="module" crossorigin src="\./(assets/[^"]+\.js)"', page)
    assert script is not None, page
    status, kind, bundle = _get(url + script.group(1))
    assert status == 200 and "javascript" in kind and len(bundle) > 100_000

    status, kind, raw = _get(url + "config.json")
    assert status == 200 and kind == "application/json"
    config = json.loads(raw)
    info = _stack(demo)
    assert config["graphql_url"] == info["graphql_url"] and config["graphql_url"].startswith("https://")
    assert config["auth"]["api_key"] == info["auth"]["api_key"]
    assert demo.printed["users"] in config["local_users"] and demo.other_user in config["local_users"]
    # What the printout says to trust is this stack's CA and server key.
    assert demo.printed["ca_file"] == info["ca_file"] and Path(info["ca_file"]).is_file()
    assert demo.printed["spki"] == info["tls_spki_sha256"]


def test_the_page_works_as_printed(demo: Demo) -> None:
    """Chromium trusting the printed key: the seeded listings, the printed user's sign-in, a live change."""
    info = _stack(demo)
    with urllib.request.urlopen(f"{info['search_endpoint']}/listings/_count", timeout=10) as response:
        total = json.load(response)["count"]
    assert total >= SEED_LIMIT  # the seed, and the demo's lag probes
    first = json.loads((REPO / "scripts/fixtures/listings.jsonl").read_text().splitlines()[0])
    env = {
        "PAGE_URL": demo.printed["url"],
        "TLS_SPKI_SHA256": demo.printed["spki"],
        "NODE_EXTRA_CA_CERTS": demo.printed["ca_file"],  # the test's own write as the other user
        "DEMO_USER": demo.printed["users"],
        "OTHER_USER": demo.other_user,
        "EXPECTED_TOTAL": str(total),
        "SEEDED_ID": first["id"],
        "SEEDED_TITLE": first["title"],
    }
    counts = run_browser_test("demo", env)
    assert counts["pass"] == 1


def test_ctrl_c_stops_the_page_and_the_stack(demo: Demo) -> None:
    pids = [int(pid) for pid in _stack(demo)["pids"].values()]
    os.killpg(demo.process.pid, signal.SIGINT)
    code = demo.process.wait(timeout=60)
    output = demo.output_to_the_end()
    assert code == 0, output
    assert output.rstrip().endswith("demo: stopped"), output
    with pytest.raises(urllib.error.URLError):
        _get(demo.printed["url"])
    alive = [pid for pid in pids if pid_alive(pid)]
    assert alive == [], f"still running after Ctrl-C: {alive}"
    assert not (demo.state_dir / "stack.json").exists()


def test_a_stack_file_the_page_cannot_use_is_a_clear_error(tmp_path: Path) -> None:
    """The demo stops with config.mjs's own message rather than serving a page with no endpoint."""
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps({"region": "us-east-1", "graphql_url": None}))
    with pytest.raises(WebPageError, match="lacks graphql_url or region"):
        page_config(stack_file)
