"""deleteListing takes the listing's reviews with it: up to 99 in its own transaction, any number more
through the review cascade (projector/cascade.py, a second consumer of the stream); search drops them (the
projector tombstones each REMOVE), and addReview decides by each cancellation reason's type which
condition failed."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from apikit import Api
from support import items
from test_api_writes import ADD_REVIEW, DELETE, GET, create, only_error

from devstack.appsync.auth import local_sub


def add_review(api: Api, listing_id: str, user: str, text: str = "Lovely") -> dict[str, Any]:
    """`user`'s review of the listing (one per author per listing: its id is `<listingId>.<sub>`)."""
    answer = api.as_user(user, ADD_REVIEW, {"input": {"listingId": listing_id, "rating": 4, "text": text}})
    assert "errors" not in answer, answer
    review: dict[str, Any] = answer["data"]["addReview"]
    return review


def partition(api: Api, listing_id: str) -> list[str]:
    """Every sort key stored under the listing's partition key, straight from moto."""
    answer = api.dynamodb.query(
        TableName=api.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"LISTING#{listing_id}"}},
        ConsistentRead=True,
    )
    return sorted(item["sk"]["S"] for item in answer["Items"])


def searchable_reviews(api: Api, listing_id: str) -> set[str]:
    """Review ids the read alias `reviews` (tombstones filtered out) returns for a listing."""
    body: dict[str, Any] = {"size": 200, "query": {"term": {"listingId": listing_id}}}
    answer = requests.post(
        f"{api.projector_env['OPENSEARCH_ENDPOINT']}/reviews/_search", json=body, timeout=10
    )
    answer.raise_for_status()
    return {hit["_source"]["id"] for hit in answer.json()["hits"]["hits"]}


def raw_review(api: Api, review_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{api.projector_env['OPENSEARCH_ENDPOINT']}/reviews-v1/_doc/{review_id}", timeout=10
    )
    doc: dict[str, Any] = answer.json()
    return doc


# What put_reviews stores besides ids and rating (a retry that repeats text and author repeats the write),
# and the create version of that `createdAt`.
SEEDED = {"text": {"S": "ok"}, "createdAt": {"S": "2026-01-01T00:00:00Z"}}
VERSION = 1767225600000000


def put_reviews(api: Api, listing_id: str, count: int) -> None:
    """Reviews by authors r000, r001, ... written straight to the table (the API would take a transaction
    each)."""
    for start in range(0, count, 25):
        requests_ = [
            {"PutRequest": {"Item": items.review(listing_id, f"r{n:03d}", VERSION, rating="3", **SEEDED)}}
            for n in range(start, min(start + 25, count))
        ]
        api.dynamodb.batch_write_item(RequestItems={api.table: requests_})


def reviews_of(api: Api, listing_id: str) -> list[dict[str, Any]] | None:
    listing = api.as_api_key(GET, {"id": listing_id})["data"]["getListing"]
    return None if listing is None else listing["reviews"]["items"]


def test_deleting_a_listing_deletes_its_reviews_everywhere(api: Api) -> None:
    listing_id = f"del-{uuid.uuid4().hex[:8]}"
    listing = create(api, id=listing_id)
    old = {review["id"]: review for review in (add_review(api, listing_id, u) for u in ("bob", "carol"))}
    assert set(old) == {f"{listing_id}.{local_sub('bob')}", f"{listing_id}.{local_sub('carol')}"}
    api.project()
    assert searchable_reviews(api, listing_id) == set(old)

    deleted = api.as_user(
        "alice", DELETE, {"input": {"id": listing_id, "expectedVersion": listing["version"]}}
    )
    assert deleted["data"]["deleteListing"]["version"] == listing["version"], deleted
    assert partition(api, listing_id) == [], "neither the listing nor a review is left"
    api.project()
    assert searchable_reviews(api, listing_id) == set(), "search drops the reviews"
    for rid, review in old.items():
        doc = raw_review(api, rid)
        assert doc["_source"]["tombstone"] is True and doc["_version"] == int(review["version"]) + 1, doc

    # The same id created again starts without reviews; the same authors write new reviews (same ids).
    create(api, id=listing_id)
    assert reviews_of(api, listing_id) == []
    again = {
        review["id"]: review for review in (add_review(api, listing_id, u, "Again") for u in ("bob", "carol"))
    }
    assert set(again) == set(old) and all(
        int(again[rid]["version"]) > int(old[rid]["version"]) for rid in old
    )
    api.project()
    assert searchable_reviews(api, listing_id) == set(old), "re-added reviews outrank their tombstones"


def test_delete_keeps_its_version_check_and_typed_errors_with_reviews(api: Api) -> None:
    listing = create(api)
    add_review(api, listing["id"], "bob")
    stale = api.as_user("alice", DELETE, {"input": {"id": listing["id"], "expectedVersion": "12"}})
    assert only_error(stale)["errorType"] == "ConflictError"
    assert only_error(stale)["errorInfo"]["currentVersion"] == listing["version"]
    assert partition(api, listing["id"]) == ["LISTING", f"REVIEW#{local_sub('bob')}"], "nothing deleted"
    not_owner = api.as_user(
        "bob", DELETE, {"input": {"id": listing["id"], "expectedVersion": listing["version"]}}
    )
    assert only_error(not_owner)["errorType"] == "UnauthorizedError"
    assert len(partition(api, listing["id"])) == 2


def test_150_reviews_are_deleted_with_their_listing_by_the_cascade_from_table_and_search(api: Api) -> None:
    """Regression: more than 99 reviews made deleteListing refuse (TooManyReviewsError), so a reviewer
    could keep an owner from deleting their own listing."""
    listing_id = f"many-{uuid.uuid4().hex[:8]}"
    listing = create(api, id=listing_id)
    put_reviews(api, listing_id, 150)
    api.project()
    assert len(searchable_reviews(api, listing_id)) == 150

    done = api.as_user("alice", DELETE, {"input": {"id": listing_id, "expectedVersion": listing["version"]}})
    assert done["data"]["deleteListing"]["id"] == listing_id, done
    assert len(partition(api, listing_id)) == 150 - 99, "the listing and 99 reviews went in one transaction"
    assert reviews_of(api, listing_id) is None

    api.cascade()  # the listing's REMOVE record: the cascade deletes the other 51, page by page
    assert partition(api, listing_id) == []
    api.project()
    assert searchable_reviews(api, listing_id) == set(), "every review is tombstoned in search"
    api.cascade()  # a replay (retries, duplicates) finds nothing left to do
    assert partition(api, listing_id) == []


def test_the_cascade_spares_reviews_of_a_listing_created_again_meanwhile(api: Api) -> None:
    """The cascade runs after the delete, possibly after the id was used again: only reviews older than
    the listing standing now are orphans."""
    listing_id = f"again-{uuid.uuid4().hex[:8]}"
    listing = create(api, id=listing_id)
    put_reviews(api, listing_id, 120)  # created 2026-01-01: older than any listing created now
    api.as_user("alice", DELETE, {"input": {"id": listing_id, "expectedVersion": listing["version"]}})
    create(api, id=listing_id)
    fresh = add_review(api, listing_id, "dora")
    api.cascade()
    assert partition(api, listing_id) == ["LISTING", f"REVIEW#{local_sub('dora')}"]
    assert [review["id"] for review in reviews_of(api, listing_id) or []] == [fresh["id"]]


def test_add_review_decides_by_reason_type_a_left_over_review_is_no_success(api: Api) -> None:
    """Regression: a review stored under a missing listing made a re-add look like an idempotent success
    (the resolver read the presence of the returned item, not the reasons' types)."""
    listing_id = f"gone-{uuid.uuid4().hex[:8]}"
    put_reviews(api, listing_id, 1)  # a review (author r000) whose listing does not exist
    retry = {"input": {"listingId": listing_id, "rating": 3, "text": "ok", "author": "r000"}}
    error = only_error(api.as_iam(ADD_REVIEW, retry))
    assert error["errorType"] == "NotFoundError" and listing_id in error["message"], error
