"""The CQRS loop through the web example in headless Chromium, against a local stack this test starts.

The stack (moto, osmem, the local AppSync endpoint, the stream poller) runs on free ports with its state
in a temporary folder; `scripts/seed.py` loads the first fixture listings through GraphQL; the page's
config.json is made by the page's own `scripts/config.mjs` from the stack's stack.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import REPO, WEB, PageServer, run_browser_test

SEED_LIMIT = 40


@pytest.fixture(scope="module")
def stack_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from devstack.stack import LocalStack, StackOptions

    stack = LocalStack(StackOptions(state_dir=tmp_path_factory.mktemp("stack")))
    stack.start()
    yield stack.stack_file
    stack.stop()


def _indexed(search_endpoint: str) -> int:
    with urllib.request.urlopen(f"{search_endpoint}/listings/_count", timeout=5) as response:
        count: int = json.load(response)["count"]
        return count


def _wait_indexed(search_endpoint: str, expected: int, timeout: float = 30) -> None:
    """The projector is asynchronous: let it index the seed before the page asserts counts."""
    deadline = time.monotonic() + timeout
    while (count := _indexed(search_endpoint)) < expected:
        if time.monotonic() > deadline:
            pytest.fail(f"the projector indexed {count} of {expected} seeded listings within {timeout} s")
        time.sleep(0.2)


def _page_config(stack_file: Path, out: Path) -> dict[str, Any]:
    subprocess.run(
        ["node", "scripts/config.mjs", "--stack", str(stack_file), "--out", str(out)],
        cwd=WEB,
        check=True,
        capture_output=True,
        text=True,
    )
    config: dict[str, Any] = json.loads(out.read_text())
    return config


def test_cqrs_loop_in_the_browser(page_server: PageServer, stack_file: Path, tmp_path: Path) -> None:
    stack = json.loads(stack_file.read_text())
    # --direct: batch writes into DynamoDB (the projector indexes them from the stream as usual); the
    # page's own writes below go through GraphQL.
    seed = subprocess.run(
        [
            sys.executable,
            "scripts/seed.py",
            "--direct",
            "--stack-file",
            str(stack_file),
            "--limit",
            str(SEED_LIMIT),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seed.returncode == 0, seed.stderr
    _wait_indexed(stack["search_endpoint"], SEED_LIMIT)

    config = _page_config(stack_file, tmp_path / "config.json")
    assert config["graphql_url"] == stack["graphql_url"]
    assert sorted(config["local_users"]) == ["alice", "bob"]
    page_server.set_config(config)

    counts = run_browser_test("cqrs-loop", {"PAGE_URL": page_server.url, "SEED_LIMIT": str(SEED_LIMIT)})
    assert counts["pass"] == 2
