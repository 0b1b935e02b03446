"""The Lambda edge is one-way: records in, a result out, nothing of a batch kept for the next."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
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
