"""The CQRS loop through the web example in headless Chromium, against a local stack these tests start.

The stack (moto, osmem, the local AppSync endpoint, the stream poller) runs on free ports with its state
in a temporary folder; `scripts/seed.py` loads the first fixture listings; the page's config.json is made
by the page's own `scripts/config.mjs` from the stack's stack.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from web_support import REPO, WEB, PageServer, run_browser_test

if TYPE_CHECKING:
    from devstack.stack import LocalStack

SEED_LIMIT = 40


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from devstack.stack import LocalStack, StackOptions

    stack = LocalStack(StackOptions(state_dir=tmp_path_factory.mktemp("stack")))
    stack.start()
    yield stack
    stack.stop()


def _hits(endpoint: str, body: dict[str, Any]) -> int:
    """How many listings the read alias finds for a query (straight from OpenSearch)."""
    request = urllib.request.Request(
        f"{endpoint}/listings/_search",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        total: int = json.load(response)["hits"]["total"]["value"]
        return total


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack_info(local_stack: LocalStack) -> dict[str, Any]:
    """The stack, seeded with the first SEED_LIMIT fixture listings, all of them searchable."""
    # --direct: batch writes into DynamoDB (the projector indexes them from the stream as usual); the
    # page's own writes go through GraphQL.
    stack_file = str(local_stack.stack_file)
    argv = [sys.executable, "scripts/seed.py", "--direct", "-s", stack_file, "-n", str(SEED_LIMIT)]
    seed = subprocess.run(
        argv,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seed.returncode == 0, seed.stderr
    info: dict[str, Any] = json.loads(local_stack.stack_file.read_text())
    endpoint = info["search_endpoint"]
    _wait_for(lambda: _hits(endpoint, {"size": 0}) >= SEED_LIMIT, "indexing the seed")
    return info


@pytest.fixture(scope="module")
def served_page(
    page_server: PageServer,
    local_stack: LocalStack,
    stack_info: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> PageServer:
    """The built page, configured by `scripts/config.mjs` from the stack's stack.json."""
    out = tmp_path_factory.mktemp("page") / "config.json"
    subprocess.run(
        ["node", "scripts/config.mjs", "--stack", str(local_stack.stack_file), "--out", str(out)],
        cwd=WEB,
        check=True,
        capture_output=True,
        text=True,
    )
    config = json.loads(out.read_text())
    assert config["graphql_url"] == stack_info["graphql_url"]
    assert sorted(config["local_users"]) == ["alice", "bob"]
    page_server.set_config(config)
    return page_server


def _tls_env(info: dict[str, Any]) -> dict[str, str]:
    """Trust for the stack's https endpoint: Chromium trusts its server key, Node (the tests' own fetch
    calls) its CA."""
    return {"TLS_SPKI_SHA256": info["tls_spki_sha256"], "NODE_EXTRA_CA_CERTS": info["ca_file"]}


def test_cqrs_loop_in_the_browser(served_page: PageServer, stack_info: dict[str, Any]) -> None:
    env = {"PAGE_URL": served_page.url, "SEED_LIMIT": str(SEED_LIMIT), **_tls_env(stack_info)}
    counts = run_browser_test("cqrs-loop", env)
    assert counts["pass"] == 2


def test_the_page_says_when_search_lags(
    served_page: PageServer, local_stack: LocalStack, stack_info: dict[str, Any]
) -> None:
    """Fault injection: with the projector stopped the page reports stale search; no write is lost."""
    title = f"Lagging room {uuid.uuid4().hex[:8]}"
    local_stack.children["poller"].stop()
    try:
        env = {"PAGE_URL": served_page.url, "LAG_TITLE": title, **_tls_env(stack_info)}
        counts = run_browser_test("search-lag", env)
    finally:
        local_stack.start_poller()  # resumes from its checkpoint
    assert counts["pass"] == 1
    endpoint = json.loads(local_stack.stack_file.read_text())["search_endpoint"]
    query = {"query": {"match_phrase": {"title": title}}}
    _wait_for(lambda: _hits(endpoint, query) == 1, "indexing the write after the restart")


def test_another_users_changes_appear_live(served_page: PageServer, stack_info: dict[str, Any]) -> None:
    """Two signed-in users: bob sees alice's create and edit over AppSync's WebSocket (wss://)."""
    counts = run_browser_test("live", {"PAGE_URL": served_page.url, **_tls_env(stack_info)})
    assert counts["pass"] == 1


def test_the_writer_sees_its_projection_signal_and_the_other_user_the_change(
    served_page: PageServer, stack_info: dict[str, Any]
) -> None:
    """Two signed-in users: alice's page waits for onListingProjected (subscribed before the write) and
    refreshes search; bob sees her create and edit live."""
    counts = run_browser_test("signal", {"PAGE_URL": served_page.url, **_tls_env(stack_info)})
    assert counts["pass"] == 1


def test_reviews_are_paged_one_per_user_and_deletable_by_the_listings_owner(
    served_page: PageServer, stack_info: dict[str, Any]
) -> None:
    """A seeded listing's reviews a page at a time; bob reviews alice's new listing once (a second review is
    an AlreadyExistsError the page names); alice, its owner, deletes bob's review."""
    env = {"PAGE_URL": served_page.url, "SEED_LIMIT": str(SEED_LIMIT), **_tls_env(stack_info)}
    counts = run_browser_test("reviews", env)
    assert counts["pass"] == 2
