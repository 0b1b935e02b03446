"""The endpoint's server: body limit, health, unknown paths, and a loop that never waits on a resolver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from apikit import API_KEY, Api

from devstack.appsync.auth import AuthConfig, Caller
from devstack.appsync.execution import Executed, GraphQLApp
from devstack.appsync.schema import load_schema
from devstack.appsync.server import MAX_BODY_BYTES, AppSyncServer, build_app

REPO = Path(__file__).resolve().parents[2]


def test_bodies_over_one_mib_get_413_whether_declared_or_streamed(api: Api) -> None:
    key = {"x-api-key": API_KEY, "Content-Type": "application/json"}
    padding = " " * MAX_BODY_BYTES
    declared = api.session.post(api.url, data='{"query": "{ __typename }"}' + padding, headers=key)
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["errorType"] == "PayloadTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        yield b'{"query": "{ __typename }"}'
        for _ in range(17):
            yield b" " * (64 * 1024)

    streamed = requests.post(api.url, data=chunks(), headers=key, timeout=30, verify=api.session.verify)
    assert streamed.status_code == 413
    just_under = api.session.post(api.url, data='{"query": "{ __typename }"}', headers=key)
    assert just_under.json() == {"data": {"__typename": "Query"}}


def test_health_and_unknown_paths(api: Api) -> None:
    base = api.url.removesuffix("/graphql")
    assert api.session.get(f"{base}/health").json() == {"status": "ok", "graphql": "/graphql"}
    missing = api.session.post(f"{base}/nowhere", data="{}")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["errorType"] == "NotFound"
    assert api.session.get(api.url).status_code in {404, 405}


class _SlowApp(GraphQLApp):
    """Execution that takes a while, as a DynamoDB transaction on a big moto table does."""

    def execute(self, caller: Caller, headers: dict[str, str], payload: Any) -> Executed:
        time.sleep(1.0)
        return Executed({"data": {"__typename": "Query"}}, [])


@pytest.fixture
def slow_server() -> Iterator[AppSyncServer]:
    app = _SlowApp(load_schema(REPO / "schema"), AuthConfig(token_secret="s" * 32, api_key="k"))
    server = AppSyncServer(("127.0.0.1", 0), build_app(app))
    server.start_background()
    yield server
    server.shutdown()


def test_a_slow_resolver_never_blocks_the_event_loop(slow_server: AppSyncServer) -> None:
    answers: list[float] = []

    def slow_call() -> None:
        requests.post(
            slow_server.url, json={"query": "{ __typename }"}, headers={"x-api-key": "k"}, timeout=10
        )
        answers.append(time.monotonic())

    slow = [threading.Thread(target=slow_call) for _ in range(3)]
    for thread in slow:
        thread.start()
    time.sleep(0.2)  # the three are executing now
    started = time.monotonic()
    health = requests.get(slow_server.url.replace("/graphql", "/health"), timeout=10)
    assert health.status_code == 200
    assert time.monotonic() - started < 0.5, "the health check waited for a resolver"
    for thread in slow:
        thread.join()
    # The three ran side by side in the thread pool, not one after another.
    assert max(answers) - started < 1.5
