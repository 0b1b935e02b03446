"""Versions and tombstones: replays, duplicates and out-of-order delivery are harmless; deletes stick."""

from __future__ import annotations

import copy
import time
from typing import Any

from projector_testkit import Env
from support.items import listing, review

from projector.stream import BatchResult


def _no_failures(response: dict[str, Any]) -> None:
    assert response == {"batchItemFailures": []}


def test_stale_duplicate_and_out_of_order_replays_are_harmless(env: Env, results: list[BatchResult]) -> None:
    env.table.put(listing("a", 100, title="v100"))
    env.table.put(listing("a", 200, title="v200"))
    env.table.put(listing("a", 300, title="v300"))
    first, second, third = env.table.read()
    # Delivered newest first, then everything again (a retry), then one by one in reverse.
    _no_failures(env.invoke([third]))
    _no_failures(env.invoke([first, second]))
    _no_failures(env.invoke([first, second, third]))
    result = results[-1]
    assert result.stale == 1 and result.collapsed == 2 and result.indexed == 0
    for record in (third, second, first):
        _no_failures(env.invoke([record]))
    document = env.search.get("a")
    assert document is not None
    assert document["_version"] == 300
    assert document["_source"]["title"] == "v300"
    assert env.dead_letters() == []


def test_tombstone_survives_gc_deletes_and_late_replays_never_resurrect(env: Env) -> None:
    # The test indices have index.gc_deletes=0s: a plain versioned delete would be forgotten at once.
    settings = env.search.transport.request("GET", f"/{env.prefix}listings-v1/_settings").body
    assert b'"gc_deletes":"0s"' in settings
    env.table.put(listing("gone", 500))
    env.table.put(listing("gone", 600, title="last"))
    env.table.delete("LISTING#gone", "LISTING")
    insert, modify, remove = env.table.read()
    assert remove["eventName"] == "REMOVE"
    _no_failures(env.invoke([insert, modify, remove]))
    tombstone = env.search.get("gone")
    assert tombstone is not None
    assert tombstone["_source"]["tombstone"] is True
    assert tombstone["_version"] == 601  # old.version + 1
    assert env.search.ids() == []  # the read alias hides tombstones
    time.sleep(0.2)  # well past gc_deletes
    _no_failures(env.invoke([insert]))
    _no_failures(env.invoke([modify, insert]))
    assert env.search.ids() == []
    still = env.search.get("gone")
    assert still is not None and still["_source"]["tombstone"] is True


def test_plain_versioned_delete_would_resurrect_with_gc_deletes_0s(env: Env) -> None:
    """The control: the fault tombstones exist to prevent really happens on this server."""
    transport = env.search.transport
    index = f"/{env.prefix}listings-v1"
    body = b'{"id": "ctl", "title": "x"}'
    assert transport.request("PUT", f"{index}/_doc/ctl?version=5&version_type=external", body).status == 201
    assert transport.request("DELETE", f"{index}/_doc/ctl?version=6&version_type=external").status == 200
    time.sleep(0.2)
    assert transport.request("PUT", f"{index}/_doc/ctl?version=5&version_type=external", body).status == 201


def test_delete_then_recreate_is_searchable_again(env: Env) -> None:
    env.table.put(listing("again", 1000))
    env.table.delete("LISTING#again", "LISTING")
    env.table.put(listing("again", 2000, title="reborn"))
    _no_failures(env.invoke(env.table.read()))
    assert env.search.ids() == ["again"]
    document = env.search.get("again")
    assert document is not None and document["_source"]["title"] == "reborn"
    assert document["_version"] == 2000


def test_delete_and_recreate_in_separate_batches(env: Env) -> None:
    env.table.put(listing("sep", 1000))
    _no_failures(env.invoke(env.table.read()))
    env.table.delete("LISTING#sep", "LISTING")
    _no_failures(env.invoke(env.table.read()))
    assert env.search.ids() == []
    env.table.put(listing("sep", 3000))
    _no_failures(env.invoke(env.table.read()))
    assert env.search.ids() == ["sep"]


def test_ttl_delete_is_a_tombstone(env: Env) -> None:
    env.table.put(listing("ttl", 70, expiresAt={"N": "1700000000"}))
    (insert,) = env.table.read()
    _no_failures(env.invoke([insert]))
    assert env.search.ids() == ["ttl"]
    # moto never expires items: build the REMOVE that DynamoDB's TTL process would emit.
    ttl_remove = copy.deepcopy(insert)
    ttl_remove["eventName"] = "REMOVE"
    ttl_remove["eventID"] = "ttl-1"
    stream = ttl_remove["dynamodb"]
    stream["OldImage"] = stream.pop("NewImage")
    stream["SequenceNumber"] = str(int(stream["SequenceNumber"]) + 1)
    ttl_remove["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    _no_failures(env.invoke([ttl_remove]))
    assert env.search.ids() == []
    tombstone = env.search.get("ttl")
    assert tombstone is not None and tombstone["_version"] == 71


def test_reviews_route_to_their_index_and_other_types_are_skipped(env: Env) -> None:
    env.table.put(listing("l1", 10))
    env.table.put(review("l1", "r1", 11, rating="5"))
    env.table.put(
        {"pk": {"S": "USER#x"}, "sk": {"S": "PROFILE"}, "type": {"S": "User"}, "version": {"N": "1"}}
    )
    env.table.put({"pk": {"S": "COUNTER"}, "sk": {"S": "COUNTER"}})  # no type, unknown key shape
    _no_failures(env.invoke(env.table.read()))
    assert env.search.ids("listings") == ["l1"]
    assert env.search.ids("reviews") == ["l1.r1"]
    document = env.search.get("l1.r1", "reviews-v1")
    assert document is not None
    assert document["_source"] == {
        "id": "l1.r1", "listingId": "l1", "rating": 5, "text": "Lovely place.", "author": "r1",
        "createdAt": "2026-01-02T00:00:00.000Z", "version": 11,
    }  # fmt: skip
    assert env.dead_letters() == []


def test_listing_document_has_exactly_the_projected_fields(env: Env) -> None:
    env.table.put(listing("f", 9, secret={"S": "not for search"}))
    _no_failures(env.invoke(env.table.read()))
    document = env.search.get("f")
    assert document is not None
    source = document["_source"]
    assert "pk" not in source and "sk" not in source and "type" not in source and "secret" not in source
    assert "gsi1pk" not in source
    assert source["location"] == {"lat": 52.52, "lon": 13.405}
    assert source["price"] == 1250.5 and source["version"] == 9 and source["tags"] == ["balcony", "park"]


def test_items_without_a_version_are_dead_lettered_not_written(env: Env) -> None:
    item = listing("nov", 1)
    del item["version"]
    env.table.put(item)
    env.table.put(listing("ok", 5))
    records = env.table.read()
    _no_failures(env.invoke(records))
    assert env.search.ids() == ["ok"]
    assert env.search.get("nov") is None
    (letter,) = env.dead_letters()
    assert letter["error"]["code"] == "missing_version"
    assert letter["record"] == records[0]
    assert letter["sequence_number"] == records[0]["dynamodb"]["SequenceNumber"]
