"""deleteListing takes the listing's reviews with it (one transaction), search drops them (the projector
tombstones each REMOVE), and addReview decides by each cancellation reason's type which condition failed."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from apikit import Api
from support import items
from test_api_writes import ADD_REVIEW, DELETE, GET, create, only_error


def add_review(api: Api, listing_id: str, review_id: str, text: str = "Lovely") -> dict[str, Any]:
    answer = api.as_user("bob", ADD_REVIEW, {"input": {"listingId": listing_id, "id": review_id,
                                                      "rating": 4, "text": text}})  # fmt: skip
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
SEEDED = {"text": {"S": "ok"}, "author": {"S": "seed"}, "createdAt": {"S": "2026-01-01T00:00:00Z"}}
VERSION = 1767225600000000


def put_reviews(api: Api, listing_id: str, count: int) -> None:
    """Reviews written straight to the table (the API would take a transaction each)."""
    for start in range(0, count, 25):
        requests_ = [
            {"PutRequest": {"Item": items.review(listing_id, f"r{n:03d}", VERSION, rating="3", **SEEDED)}}
            for n in range(start, min(start + 25, count))
        ]
        api.dynamodb.batch_write_item(RequestItems={api.table: requests_})


def test_deleting_a_listing_deletes_its_reviews_everywhere(api: Api) -> None:
    listing_id = f"del-{uuid.uuid4().hex[:8]}"
    listing = create(api, id=listing_id)
    old = {rid: add_review(api, listing_id, rid) for rid in (f"{listing_id}-a", f"{listing_id}-b")}
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

    # The same id created again starts without reviews; the same review ids are new reviews.
    create(api, id=listing_id)
    assert api.as_api_key(GET, {"id": listing_id})["data"]["getListing"]["reviews"] == []
    again = {rid: add_review(api, listing_id, rid, text="Second time") for rid in old}
    assert all(int(again[rid]["version"]) > int(old[rid]["version"]) for rid in old)
    api.project()
    assert searchable_reviews(api, listing_id) == set(old), "re-added reviews outrank their tombstones"


def test_delete_keeps_its_version_check_and_typed_errors_with_reviews(api: Api) -> None:
    listing = create(api)
    add_review(api, listing["id"], f"{listing['id']}-r")
    stale = api.as_user("alice", DELETE, {"input": {"id": listing["id"], "expectedVersion": "12"}})
    assert only_error(stale)["errorType"] == "ConflictError"
    assert only_error(stale)["errorInfo"]["currentVersion"] == listing["version"]
    assert partition(api, listing["id"]) == ["LISTING", f"REVIEW#{listing['id']}-r"], "nothing deleted"
    not_owner = api.as_user(
        "bob", DELETE, {"input": {"id": listing["id"], "expectedVersion": listing["version"]}}
    )
    assert only_error(not_owner)["errorType"] == "UnauthorizedError"
    assert len(partition(api, listing["id"])) == 2


def test_more_than_99_reviews_is_a_typed_error_and_99_delete_in_one_transaction(api: Api) -> None:
    listing_id = f"many-{uuid.uuid4().hex[:8]}"
    listing = create(api, id=listing_id)
    put_reviews(api, listing_id, 100)
    variables = {"input": {"id": listing_id, "expectedVersion": listing["version"]}}
    refused = only_error(api.as_user("alice", DELETE, variables))
    assert refused["errorType"] == "TooManyReviewsError", refused
    assert refused["errorInfo"] == {"id": listing_id, "maxReviews": 99}
    assert "deleteReview" in refused["message"]
    assert len(partition(api, listing_id)) == 101, "refused before anything was written"

    api.dynamodb.delete_item(
        TableName=api.table, Key={"pk": {"S": f"LISTING#{listing_id}"}, "sk": {"S": "REVIEW#r000"}}
    )
    done = api.as_user("alice", DELETE, variables)
    assert done["data"]["deleteListing"]["id"] == listing_id, done
    assert partition(api, listing_id) == [], "a full 100-item transaction: the listing and 99 reviews"


def test_add_review_decides_by_reason_type_a_left_over_review_is_no_success(api: Api) -> None:
    """Regression: a review stored under a missing listing made a re-add look like an idempotent success
    (the resolver read the presence of the returned item, not the reasons' types)."""
    listing_id = f"gone-{uuid.uuid4().hex[:8]}"
    put_reviews(api, listing_id, 1)  # a review whose listing does not exist
    retry = {"input": {"listingId": listing_id, "id": "r000", "rating": 3, "text": "ok", "author": "seed"}}
    error = only_error(api.as_iam(ADD_REVIEW, retry))
    assert error["errorType"] == "NotFoundError" and listing_id in error["message"], error
