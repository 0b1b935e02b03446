"""Failure paths through the fault proxy: retries, per-item outcomes, caps, poison, DLQ, collapse."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from projector_testkit import Env
from support.items import listing, review

from devstack.faultproxy import FaultProxy
from devstack.servers import ChildServer, free_port
from projector import handler
from projector.stream import BatchResult


@pytest.fixture
def proxy(osmem: ChildServer) -> Iterator[FaultProxy]:
    with FaultProxy(osmem.url, seed=11) as running:
        running.set(hang_seconds=3.0)
        yield running


@pytest.fixture
def via_proxy(env: Env, proxy: FaultProxy, configure: Callable[..., None]) -> Env:
    """The env, with the projector talking to OpenSearch through the proxy (short read timeout)."""
    configure(OPENSEARCH_ENDPOINT=proxy.url)
    handler.runtime().transport.read_timeout = 0.4
    return env


def _sequences(records: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in records]


def _failed(response: dict[str, Any]) -> list[str]:
    return sorted(failure["itemIdentifier"] for failure in response["batchItemFailures"])


def test_429_500_drops_and_timeouts_are_retried_and_nothing_is_lost(
    via_proxy: Env, proxy: FaultProxy, results: list[BatchResult]
) -> None:
    for number in range(20):
        via_proxy.table.put(listing(f"r{number}", 10 + number))
    proxy.script("429", "500", "drop", "timeout", "429")
    response = via_proxy.invoke(via_proxy.table.read())
    assert response == {"batchItemFailures": []}
    assert via_proxy.search.ids() == sorted(f"r{number}" for number in range(20))
    for kind in ("status_429", "status_500", "drop", "timeout"):
        assert proxy.stats[kind] >= 1, kind
    result = results[-1]
    assert result.retried >= 5 * 20 - 20  # every faulted attempt was retried


def test_per_item_429s_are_retried_until_indexed(via_proxy: Env, proxy: FaultProxy) -> None:
    for number in range(30):
        via_proxy.table.put(listing(f"i{number}", 5))
    proxy.set(item_failure=0.4)
    response = via_proxy.invoke(via_proxy.table.read())
    assert response == {"batchItemFailures": []}
    assert proxy.stats["item_failures"] > 0
    assert len(via_proxy.search.ids()) == 30


def test_persistent_outage_reports_every_record_within_the_deadline(
    via_proxy: Env, proxy: FaultProxy
) -> None:
    via_proxy.table.put(listing("x", 1))
    via_proxy.table.put(listing("y", 1))
    via_proxy.table.put(listing("x", 2))
    records = via_proxy.table.read()
    proxy.set(status_500=1.0)
    started = time.monotonic()
    response = via_proxy.invoke(records, remaining_ms=3500)
    elapsed = time.monotonic() - started
    assert _failed(response) == sorted(_sequences(records))
    assert elapsed < 3.5  # stopped retrying in time to answer
    assert proxy.stats["status_500"] >= 2  # it did retry
    # The outage ends: Lambda's retry of the same batch lands everything.
    proxy.clear()
    assert via_proxy.invoke(records) == {"batchItemFailures": []}
    assert via_proxy.search.ids() == ["x", "y"]


def test_refused_connections_fail_the_batch_until_the_proxy_listens_again(
    via_proxy: Env, proxy: FaultProxy
) -> None:
    via_proxy.table.put(listing("o1", 1))
    via_proxy.table.put(listing("o2", 1))
    records = via_proxy.table.read()
    url = proxy.url
    proxy.refuse()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    response = via_proxy.invoke(records, remaining_ms=3000)
    assert _failed(response) == sorted(_sequences(records))
    proxy.accept()  # the outage ends: the same address answers again
    assert proxy.url == url
    assert via_proxy.invoke(records) == {"batchItemFailures": []}
    assert via_proxy.search.ids() == ["o1", "o2"]
    assert proxy.stats["outages"] == 1


def test_collapsed_key_that_fails_reports_all_its_sequence_numbers(
    via_proxy: Env, proxy: FaultProxy, results: list[BatchResult]
) -> None:
    via_proxy.table.put(listing("a", 1))
    via_proxy.table.put(listing("b", 1))
    via_proxy.table.put(listing("a", 2))
    via_proxy.table.put(listing("c", 1))
    records = via_proxy.table.read()
    proxy.set(fail_ids=("a",), item_status=503)
    response = via_proxy.invoke(records, remaining_ms=3000)
    assert _failed(response) == sorted([_sequences(records)[0], _sequences(records)[2]])
    assert via_proxy.search.ids() == ["b", "c"]
    result = results[-1]
    assert result.collapsed == 1


def test_collapse_writes_one_action_per_key(
    via_proxy: Env, proxy: FaultProxy, results: list[BatchResult]
) -> None:
    for version in range(1, 11):
        via_proxy.table.put(listing("same", version, title=f"t{version}"))
    via_proxy.table.put(listing("other", 1))
    assert via_proxy.invoke(via_proxy.table.read()) == {"batchItemFailures": []}
    assert proxy.stats["forwarded"] >= 1
    body_lines = 2 * 2  # two documents: two action lines + two sources
    assert proxy.request_sizes and len(proxy.request_sizes) == 1
    document = via_proxy.search.get("same")
    assert document is not None and document["_source"]["title"] == "t10" and document["_version"] == 10
    result = results[-1]
    assert result.collapsed == 9 and result.indexed == 2 and body_lines == 4


def test_mapping_errors_are_poison_with_the_full_record_in_the_dlq(
    env: Env, results: list[BatchResult]
) -> None:
    bad = review("l", "bad", 3)
    bad["rating"] = {"S": "five"}  # strict mapping: integer field
    env.table.put(bad)
    env.table.put(review("l", "good", 3))
    records = env.table.read()
    assert env.invoke(records) == {"batchItemFailures": []}
    assert env.search.ids("reviews") == ["l.good"]
    (letter,) = env.dead_letters()
    assert letter["record"] == records[0]
    assert letter["error"]["status"] == 400
    assert letter["error"]["code"] == "mapper_parsing_exception"
    assert letter["index"] == f"{env.prefix}reviews-v1"
    assert letter["function"]["name"] == "projector-test"
    result = results[-1]
    assert result.poisoned == 1 and result.indexed == 1


def test_oversized_document_is_isolated(env: Env, configure: Callable[..., None]) -> None:
    configure(BULK_MAX_BYTES="4096")
    env.table.put(listing("small1", 1))
    env.table.put(listing("huge", 1, description={"S": "x" * 10_000}))
    env.table.put(listing("small2", 1))
    records = env.table.read()
    assert env.invoke(records) == {"batchItemFailures": []}
    assert env.search.ids() == ["small1", "small2"]
    (letter,) = env.dead_letters()
    assert letter["error"]["code"] == "document_too_large"
    assert letter["record"]["dynamodb"]["SequenceNumber"] == records[1]["dynamodb"]["SequenceNumber"]


def test_requests_respect_the_count_cap(env: Env, proxy: FaultProxy, configure: Callable[..., None]) -> None:
    configure(OPENSEARCH_ENDPOINT=proxy.url, BULK_MAX_ACTIONS="7")
    for number in range(30):
        env.table.put(listing(f"c{number:02d}", 1))
    assert env.invoke(env.table.read()) == {"batchItemFailures": []}
    assert len(env.search.ids()) == 30
    assert len(proxy.request_sizes) == 5  # 7 + 7 + 7 + 7 + 2


def test_requests_respect_the_byte_cap(env: Env, proxy: FaultProxy, configure: Callable[..., None]) -> None:
    configure(OPENSEARCH_ENDPOINT=proxy.url, BULK_MAX_BYTES="1500")
    for number in range(30):
        env.table.put(listing(f"c{number:02d}", 1))
    assert env.invoke(env.table.read()) == {"batchItemFailures": []}
    assert len(env.search.ids()) == 30
    assert max(proxy.request_sizes) <= 1500
    assert sum(proxy.request_sizes) > 30 * 400  # every action was sent, in many small requests
    assert len(proxy.request_sizes) >= sum(proxy.request_sizes) / 1500


def test_a_413_splits_the_request_instead_of_failing_the_batch(
    via_proxy: Env, proxy: FaultProxy, results: list[BatchResult]
) -> None:
    for number in range(8):
        via_proxy.table.put(listing(f"s{number}", 1))
    proxy.script("413")
    assert via_proxy.invoke(via_proxy.table.read()) == {"batchItemFailures": []}
    assert len(via_proxy.search.ids()) == 8
    assert results[-1].bulk.split_requests == 1


def test_unreachable_dlq_reports_the_poison_record_failed(env: Env, configure: Callable[..., None]) -> None:
    configure(DEAD_LETTER_QUEUE_URL=f"http://127.0.0.1:{free_port()}/123456789012/missing")
    item = listing("nov", 1)
    del item["version"]
    env.table.put(item)
    env.table.put(listing("fine", 1))
    records = env.table.read()
    response = env.invoke(records)
    assert _failed(response) == [_sequences(records)[0]]
    assert env.search.ids() == ["fine"]


def test_missing_dlq_queue_reports_the_poison_record_failed(env: Env, configure: Callable[..., None]) -> None:
    configure(DEAD_LETTER_QUEUE_URL=f"{env.moto_url}/123456789012/no-such-queue")
    item = listing("nov", 1)
    del item["version"]
    env.table.put(item)
    records = env.table.read()
    assert _failed(env.invoke(records)) == _sequences(records)


def test_missing_write_alias_fails_records_not_drops_them(env: Env, configure: Callable[..., None]) -> None:
    configure(INDEX_PREFIX="nothing-here-")
    env.table.put(listing("m", 1))
    records = env.table.read()
    assert _failed(env.invoke(records)) == _sequences(records)
    assert env.dead_letters() == []


def test_documents_go_to_every_index_behind_the_write_alias(env: Env) -> None:
    transport = env.search.transport
    second = f"{env.prefix}listings-v2"
    from projector.entities import LISTING, load_mapping

    assert (
        transport.request(
            "PUT", f"/{second}", __import__("json").dumps(load_mapping(LISTING)).encode()
        ).status
        == 200
    )
    actions = b'{"actions":[{"add":{"index":"%s","alias":"%slistings-write"}}]}' % (
        second.encode(),
        env.prefix.encode(),
    )
    assert transport.request("POST", "/_aliases", actions).status == 200
    env.table.put(listing("both", 4))
    assert env.invoke(env.table.read()) == {"batchItemFailures": []}
    assert env.search.get("both", "listings-v1") is not None
    assert env.search.get("both", "listings-v2") is not None


def test_transient_alias_lookup_failures_are_retried(via_proxy: Env, proxy: FaultProxy) -> None:
    proxy.set(match="/_alias")
    proxy.script("500", "drop")
    via_proxy.table.put(listing("al", 1))
    assert via_proxy.invoke(via_proxy.table.read()) == {"batchItemFailures": []}
    assert proxy.stats["status_500"] == 1 and proxy.stats["drop"] == 1
    assert via_proxy.search.ids() == ["al"]
