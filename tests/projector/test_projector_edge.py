"""The Lambda edge is one-way: records in, a result out, nothing of a batch kept for the next."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from projector_testkit import Env
from support.items import listing
from support.lambda_context import lambda_context

from projector import handler
from projector.bulk import BulkStats
from projector.exceptions import RetryableError
from projector.stream import BatchResult


def _state() -> dict[str, dict[str, Any]]:
    run = handler.runtime()
    return {name: dict(vars(part)) for name, part in (("projector", run.projector), ("writer", run.writer))}


def test_no_state_of_a_batch_survives_the_invocation(
    env: Env, configure: Callable[..., None], results: list[BatchResult]
) -> None:
    configure(INDEX_PREFIX="nothing-here-")  # every write fails: its alias is missing
    before = _state()
    bad = listing("poison", 1)
    del bad["version"]
    env.table.put(bad)
    env.table.put(listing("kept", 1))
    failing = env.table.read()
    response = env.invoke(failing)
    assert [failure["itemIdentifier"] for failure in response["batchItemFailures"]] == [
        failing[1]["dynamodb"]["SequenceNumber"]
    ]
    first = results[-1]
    assert first.failed == 1 and first.poisoned == 1
    assert _state() == before

    configure(INDEX_PREFIX=env.prefix)
    env.table.put(listing("fine", 1))
    fine = env.table.read()
    assert handler.lambda_handler({"Records": fine}, lambda_context()) == {"batchItemFailures": []}
    second = results[-1]
    assert second.failures == {} and second.dead_letters == () and second.indexed == 1
    assert first.failed == 1 and first.poisoned == 1  # the first batch's result is its own
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.indexed = 5  # type: ignore[misc]


def test_the_response_names_failed_records_in_record_order() -> None:
    records: list[dict[str, Any]] = [{"dynamodb": {"SequenceNumber": str(n)}} for n in range(4)]
    records.append({"eventName": "MODIFY"})  # malformed: no sequence number to name
    failure = RetryableError("failed", "")
    result = BatchResult(
        records=5, failures={4: failure, 2: failure, 0: failure}, dead_letters=(), bulk=BulkStats()
    )
    assert handler.partial_response(records, result) == {
        "batchItemFailures": [{"itemIdentifier": "0"}, {"itemIdentifier": "2"}, {"itemIdentifier": None}]
    }


def _emf(printed: str) -> dict[str, Any]:
    (line,) = [line for line in printed.splitlines() if '"_aws"' in line]
    blob: dict[str, Any] = json.loads(line)
    del blob["_aws"]["Timestamp"]
    return blob


@pytest.mark.parametrize("latencies", [(), (12.5,), tuple(float(n) for n in range(99))])
def test_the_metrics_are_what_powertools_would_print(
    latencies: tuple[float, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler builds its metric set in one pass; the EMF blob is the one ``add_metric`` per value
    and ``flush_metrics`` print (zero counts left out but ``records``)."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    failure = RetryableError("failed", "")
    result = BatchResult(
        records=7, failures={3: failure}, dead_letters=(), bulk=BulkStats(1, 2, 0, latencies),
        indexed=4, stale=1, collapsed=1, max_lag_ms=1234.5,
    )  # fmt: skip
    metrics = Metrics(namespace="edge-test", service="projector")
    handler._publish(metrics, handler.metric_set(result))
    ours = _emf(capsys.readouterr().out)

    reference = Metrics(namespace="edge-test", service="projector")
    for name, count in result.counts().items():
        if count or name == "records":
            reference.add_metric(name=name, unit=MetricUnit.Count, value=count)
    for latency in latencies[:100]:
        reference.add_metric(name="bulk_latency", unit=MetricUnit.Milliseconds, value=latency)
    reference.add_metric(name="projection_lag", unit=MetricUnit.Milliseconds, value=1234.5)
    reference.flush_metrics()
    assert ours == _emf(capsys.readouterr().out)
    assert "retried" in ours and "deleted" not in ours


def test_disabled_metrics_print_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    result = BatchResult(records=1, failures={}, dead_letters=(), bulk=BulkStats(), indexed=1)
    handler._publish(Metrics(namespace="edge-test", service="projector"), handler.metric_set(result))
    assert capsys.readouterr().out == ""


def test_a_hundred_latencies_and_more_make_one_blob(capsys: pytest.CaptureFixture[str]) -> None:
    """EMF takes up to 100 values per metric: the first 100 latencies, in the batch's one blob (Powertools'
    ``add_metric`` printed a blob of its own at the 100th value)."""
    latencies = tuple(float(n) for n in range(150))
    result = BatchResult(records=1, failures={}, dead_letters=(), bulk=BulkStats(150, 0, 0, latencies))
    handler._publish(Metrics(namespace="edge-test", service="projector"), handler.metric_set(result))
    blob = _emf(capsys.readouterr().out)
    assert blob["bulk_latency"] == list(latencies[:100]) and blob["records"] == [1.0]
