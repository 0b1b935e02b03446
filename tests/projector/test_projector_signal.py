"""The projection signal (projector/signal.py): what the handler publishes after a batch, and that no failure
of AppSync (down, slow beyond the budget, 4xx, 5xx, GraphQL errors) changes the batch's outcome."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from projector_testkit import Env
from support.items import listing, review

from devstack.servers import free_port
from projector.signal import MAX_FIELDS_PER_REQUEST, Signal, SignalPublisher, mutation
from projector.transport import Transport


class FakeAppSync:
    """A loopback GraphQL endpoint: records each request, answers as told (status, delay, errors)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.delay_s = 0.0
        self.refuse_first = False  # answer the first alias with a GraphQL error
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": json.loads(body)})
                time.sleep(outer.delay_s)
                aliases = re.findall(r"(\w+): publishListingProjected", json.loads(body)["query"])
                data: dict[str, Any] = {alias: {"id": alias} for alias in aliases}
                answer: dict[str, Any] = {"data": data}
                if outer.refuse_first:
                    data[aliases[0]] = None
                    answer["errors"] = [
                        {"errorType": "Unauthorized", "message": "Not Authorized", "path": [aliases[0]]}
                    ]
                reply = json.dumps(
                    answer if outer.status == 200 else {"errors": [{"message": "no"}]}
                ).encode()
                try:
                    self.send_response(outer.status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up (slow answers): nothing to tell it

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signals(self) -> list[dict[str, Any]]:
        """Every published input, parsed back from the requests' documents."""
        out = []
        for request in self.requests:
            query = request["body"]["query"]
            for part in query.split("publishListingProjected(input: ")[1:]:
                fields = part.split(") {")[0].strip("{}")
                parsed = {}
                for pair in fields.split(", "):
                    name, _, value = pair.partition(": ")
                    parsed[name] = json.loads(value)
                out.append(parsed)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def appsync() -> Iterator[FakeAppSync]:
    fake = FakeAppSync()
    yield fake
    fake.close()


@pytest.fixture
def signal_env(env: Env, appsync: FakeAppSync, configure: Callable[..., None]) -> Env:
    configure(PROJECTION_SIGNAL_URL=appsync.url, PROJECTION_SIGNAL_BUDGET_MS="200")
    return env


def emf(output: str) -> dict[str, float]:
    """The metric values Powertools printed, summed by name."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return totals


def test_one_signed_request_per_invocation_one_field_per_newly_written_listing(
    signal_env: Env, appsync: FakeAppSync, capsys: pytest.CaptureFixture[str]
) -> None:
    table = signal_env.table
    table.put(listing("L1", 1))
    table.put(listing("L2", 1, owner={"S": "bob"}))
    table.put(review("L1", "R1", 1))  # reviews send no signal
    table.put(listing("L3", 1))
    table.delete("LISTING#L3", "LISTING")
    response = signal_env.invoke(table.read())

    assert response == {"batchItemFailures": []}
    assert len(appsync.requests) == 1
    headers = appsync.requests[0]["headers"]
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/appsync/aws4_request" in headers["Authorization"]
    signals = sorted(appsync.signals(), key=lambda s: s["id"])
    assert [(s["id"], s["owner"], s["version"], s["deleted"]) for s in signals] == [
        ("L1", "alice", "1", False),
        ("L2", "bob", "1", False),
        ("L3", "alice", "1", True),  # a delete carries the deleted version and the old image's owner
    ]
    assert all(s["projectedAt"].endswith("Z") and len(s["projectedAt"]) == 24 for s in signals)
    metrics = emf(capsys.readouterr().out)
    assert metrics["signals_published"] == 3 and metrics["signal_publish_failed"] == 0


def test_a_replay_that_is_stale_publishes_nothing(
    signal_env: Env, appsync: FakeAppSync, capsys: pytest.CaptureFixture[str]
) -> None:
    signal_env.table.put(listing("S1", 1))
    records = signal_env.table.read()
    signal_env.invoke(records)
    assert len(appsync.signals()) == 1
    capsys.readouterr()

    assert signal_env.invoke(records) == {"batchItemFailures": []}  # Lambda retrying the same batch: 409s
    assert len(appsync.requests) == 1, "a 409 stale replay must not publish"
    assert "signals_published" not in emf(capsys.readouterr().out)


def test_off_unless_configured(env: Env, appsync: FakeAppSync) -> None:
    env.table.put(listing("O1", 1))
    assert env.invoke(env.table.read()) == {"batchItemFailures": []}
    assert appsync.requests == []


@pytest.mark.parametrize("fault", ["down", "slow", "400", "500", "graphql-error"])
def test_a_failed_publish_never_fails_the_batch_and_is_counted(
    fault: str,
    env: Env,
    appsync: FakeAppSync,
    configure: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}/graphql" if fault == "down" else appsync.url
    configure(PROJECTION_SIGNAL_URL=url, PROJECTION_SIGNAL_BUDGET_MS="100")
    if fault == "slow":
        appsync.delay_s = 1.0
    elif fault in ("400", "500"):
        appsync.status = int(fault)
    elif fault == "graphql-error":
        appsync.refuse_first = True
    env.table.put(listing("F1", 1))
    env.table.put(listing("F2", 1))
    records = env.table.read()

    started = time.monotonic()
    response = env.invoke(records)
    assert response == {"batchItemFailures": []}
    assert env.search.ids() == ["F1", "F2"]
    metrics = emf(capsys.readouterr().out)
    expected_failed = 1 if fault == "graphql-error" else 2
    assert metrics["signal_publish_failed"] == expected_failed, metrics
    assert metrics["signals_published"] == 2 - expected_failed
    if fault == "slow":
        # The publication gave up at its budget (100 ms, plus scheduling), not at the server's 1 s.
        assert time.monotonic() - started < 0.9


def test_more_than_fifty_listings_take_several_requests_within_the_budget(appsync: FakeAppSync) -> None:
    publisher = SignalPublisher(Transport(appsync.url, "sigv4", "us-east-1", service="appsync"), 200)
    signals = [Signal(f"id{n}", "alice", n + 1, False) for n in range(MAX_FIELDS_PER_REQUEST * 2 + 1)]
    result = publisher.publish(signals)
    assert (result.published, result.failed, result.requests) == (101, 0, 3)
    assert len(appsync.signals()) == 101


def test_what_the_budget_does_not_cover_is_dropped_and_counted(appsync: FakeAppSync) -> None:
    appsync.delay_s = 0.12  # the first request uses most of the 200 ms budget
    publisher = SignalPublisher(Transport(appsync.url, "sigv4", "us-east-1", service="appsync"), 200)
    signals = [Signal(f"id{n}", "alice", 1, False) for n in range(MAX_FIELDS_PER_REQUEST * 3)]
    started = time.monotonic()
    result = publisher.publish(signals)
    assert time.monotonic() - started < 0.3
    assert result.published == MAX_FIELDS_PER_REQUEST and result.failed == 2 * MAX_FIELDS_PER_REQUEST
    # The second request starts with what is left (~80 ms) and times out; the third never starts.
    assert result.requests == 2 and any("budget is spent" in problem for problem in result.problems)


def test_the_document_escapes_what_it_inlines() -> None:
    body = json.loads(mutation([Signal('we"ird\\id', "o\nwner", 7, True)], "2026-12-05T10:00:00.000Z"))
    from graphql import parse

    document = parse(body["query"])  # a quote or newline in a value cannot break the document
    [field] = document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
    values = {arg.name.value: arg.value for arg in field.arguments[0].value.fields}
    assert values["id"].value == 'we"ird\\id' and values["owner"].value == "o\nwner"
    assert values["deleted"].value is True
