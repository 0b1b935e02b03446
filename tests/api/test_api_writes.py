"""End-to-end writes over HTTP: the local endpoint runs the real resolvers against moto."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from apikit import Api

LISTING_FIELDS = (
    "id title description category tags price currency city owner status version createdAt updatedAt"
)
CREATE = f"mutation($input: CreateListingInput!) {{ createListing(input: $input) {{ {LISTING_FIELDS} }} }}"
UPDATE = f"mutation($input: UpdateListingInput!) {{ updateListing(input: $input) {{ {LISTING_FIELDS} }} }}"
DELETE = f"mutation($input: DeleteListingInput!) {{ deleteListing(input: $input) {{ {LISTING_FIELDS} }} }}"
GET = (
    f"query($id: ID!) {{ getListing(id: $id) {{ {LISTING_FIELDS} location {{ lat lon }}"
    " reviews { items { id rating text author version } nextToken } } }"
)
ADD_REVIEW = (
    "mutation($input: AddReviewInput!) {"
    " addReview(input: $input) { id listingId rating text author version } }"
)
DELETE_REVIEW = "mutation($input: DeleteReviewInput!) { deleteReview(input: $input) { id version } }"


def listing_input(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Sunny two-room flat",
        "description": "Balcony facing south",
        "category": "APARTMENT",
        "tags": ["balcony", "lift"],
        "price": 1250.5,
        "currency": "EUR",
        "location": {"lat": 52.52, "lon": 13.405},
        "city": "Berlin",
        **overrides,
    }


def only_error(answer: dict[str, Any]) -> dict[str, Any]:
    assert len(answer.get("errors", [])) == 1, answer
    error: dict[str, Any] = answer["errors"][0]
    return error


def create(api: Api, user: str = "alice", **overrides: Any) -> dict[str, Any]:
    answer = api.as_user(user, CREATE, {"input": listing_input(**overrides)})
    assert "errors" not in answer, answer
    listing: dict[str, Any] = answer["data"]["createListing"]
    return listing


def test_create_get_stale_update_update_delete(api: Api) -> None:
    created = create(api)
    stored = api.stored(created["id"])
    assert stored is not None
    assert stored["version"] == {"N": created["version"]}
    assert stored["type"] == {"S": "Listing"}
    assert stored["gsi1pk"] == {"S": f"OWNER#{created['owner']}"}
    assert created["createdAt"] == created["updatedAt"] and created["status"] == "ACTIVE"

    got = api.as_api_key(GET, {"id": created["id"]})["data"]["getListing"]
    assert {k: got[k] for k in created} == created
    assert got["reviews"] == {"items": [], "nextToken": None} and got["location"] == {
        "lat": 52.52,
        "lon": 13.405,
    }

    stale = api.as_user(
        "alice", UPDATE, {"input": {"id": created["id"], "expectedVersion": "1", "title": "Stale"}}
    )
    error = only_error(stale)
    assert stale["data"] is None
    assert error["errorType"] == "ConflictError"
    assert error["errorInfo"]["currentVersion"] == created["version"]
    assert created["version"] in error["message"]
    assert error["path"] == ["updateListing"] and error["locations"]
    assert api.stored(created["id"]) == stored, "a rejected update wrote nothing"

    answer = api.as_user(
        "alice", UPDATE, {"input": {"id": created["id"], "expectedVersion": created["version"], "price": 999}}
    )
    updated = answer["data"]["updateListing"]
    assert int(updated["version"]) > int(created["version"])
    assert updated["price"] == 999 and updated["title"] == created["title"]
    assert updated["updatedAt"] >= created["updatedAt"] and updated["createdAt"] == created["createdAt"]
    assert api.stored(created["id"])["version"] == {"N": updated["version"]}  # type: ignore[index]

    again = api.as_user(
        "alice", UPDATE, {"input": {"id": created["id"], "expectedVersion": created["version"], "price": 1}}
    )
    assert only_error(again)["errorInfo"]["currentVersion"] == updated["version"]

    deleted = api.as_user(
        "alice", DELETE, {"input": {"id": created["id"], "expectedVersion": updated["version"]}}
    )
    assert deleted["data"]["deleteListing"] == updated
    assert api.stored(created["id"]) is None
    assert api.as_api_key(GET, {"id": created["id"]})["data"]["getListing"] is None

    gone = api.as_user(
        "alice", DELETE, {"input": {"id": created["id"], "expectedVersion": updated["version"]}}
    )
    assert only_error(gone)["errorType"] == "NotFoundError"


def test_invalid_input_is_a_typed_error_and_writes_nothing(api: Api) -> None:
    listing_id = f"bad-{uuid.uuid4().hex[:8]}"
    answer = api.as_user(
        "alice",
        CREATE,
        {
            "input": listing_input(
                id=listing_id, title="", price=-5, currency="euro", location={"lat": 95, "lon": 0}
            )
        },
    )
    error = only_error(answer)
    assert error["errorType"] == "ValidationError"
    assert len(error["errorInfo"]["problems"]) == 4, error
    assert api.stored(listing_id) is None

    # Input that is not even valid GraphQL (unknown enum value) never reaches a resolver.
    wrong_enum = api.as_user("alice", CREATE, {"input": listing_input(id=listing_id, category="CASTLE")})
    assert wrong_enum["data"] is None and "CASTLE" in wrong_enum["errors"][0]["message"]
    assert api.stored(listing_id) is None

    created = create(api)
    update = {"id": created["id"], "expectedVersion": created["version"], "tags": ["x" * 41]}
    assert only_error(api.as_user("alice", UPDATE, {"input": update}))["errorType"] == "ValidationError"
    assert api.stored(created["id"])["version"] == {"N": created["version"]}  # type: ignore[index]


def test_create_with_client_id_is_idempotent(api: Api) -> None:
    listing_id = f"idem-{uuid.uuid4().hex[:8]}"
    first = create(api, id=listing_id)
    retry = create(api, id=listing_id)
    assert retry == first
    clash = api.as_user("alice", CREATE, {"input": listing_input(id=listing_id, title="Something else")})
    error = only_error(clash)
    assert (
        error["errorType"] == "AlreadyExistsError"
        and error["errorInfo"]["currentVersion"] == first["version"]
    )
    assert api.stored(listing_id)["title"] == {"S": first["title"]}  # type: ignore[index]


def test_only_the_owner_or_a_backend_may_change_a_listing(api: Api) -> None:
    created = create(api, user="alice")
    before = api.stored(created["id"])
    attempt = {"id": created["id"], "expectedVersion": created["version"], "title": "Mine now"}
    assert only_error(api.as_user("bob", UPDATE, {"input": attempt}))["errorType"] == "UnauthorizedError"
    delete = {"id": created["id"], "expectedVersion": created["version"]}
    assert only_error(api.as_user("bob", DELETE, {"input": delete}))["errorType"] == "UnauthorizedError"
    assert api.stored(created["id"]) == before

    stolen = api.as_user("bob", CREATE, {"input": listing_input(owner="alice-sub")})
    assert only_error(stolen)["errorType"] == "UnauthorizedError"

    backend = api.as_iam(UPDATE, {"input": attempt})
    assert backend["data"]["updateListing"]["title"] == "Mine now"
    assert backend["data"]["updateListing"]["owner"] == created["owner"]


def test_backends_create_for_a_named_owner(api: Api) -> None:
    missing = api.as_iam(CREATE, {"input": listing_input()})
    assert only_error(missing)["errorType"] == "ValidationError"
    made = api.as_iam(CREATE, {"input": listing_input(owner="seed-owner-1")})["data"]["createListing"]
    assert made["owner"] == "seed-owner-1"
    assert api.stored(made["id"])["gsi1pk"] == {"S": "OWNER#seed-owner-1"}  # type: ignore[index]


def test_reviews_need_their_listing_and_follow_the_version_rules(api: Api) -> None:
    orphan = api.as_user(
        "bob", ADD_REVIEW, {"input": {"listingId": "no-such-listing", "rating": 4, "text": "Hm"}}
    )
    assert only_error(orphan)["errorType"] == "NotFoundError"
    listing = create(api, user="alice")
    bad = api.as_user("bob", ADD_REVIEW, {"input": {"listingId": listing["id"], "rating": 6, "text": "Wow"}})
    assert only_error(bad)["errorType"] == "ValidationError"

    review = api.as_user(
        "bob", ADD_REVIEW, {"input": {"listingId": listing["id"], "rating": 5, "text": "Lovely"}}
    )
    added = review["data"]["addReview"]
    got = api.as_user("alice", GET, {"id": listing["id"]})["data"]["getListing"]
    assert [(r["id"], r["rating"], r["version"]) for r in got["reviews"]["items"]] == [
        (added["id"], 5, added["version"])
    ]
    assert got["version"] == listing["version"], "a review does not change its listing"

    key = {"listingId": listing["id"], "id": added["id"]}
    stranger = api.as_user("carol", DELETE_REVIEW, {"input": {**key, "expectedVersion": added["version"]}})
    assert only_error(stranger)["errorType"] == "UnauthorizedError"
    stale = api.as_user("bob", DELETE_REVIEW, {"input": {**key, "expectedVersion": "12"}})
    assert only_error(stale)["errorInfo"]["currentVersion"] == added["version"]
    done = api.as_user("bob", DELETE_REVIEW, {"input": {**key, "expectedVersion": added["version"]}})
    assert done["data"]["deleteReview"] == {"id": added["id"], "version": added["version"]}
    assert api.as_user("alice", GET, {"id": listing["id"]})["data"]["getListing"]["reviews"]["items"] == []


def test_the_owner_may_delete_another_authors_review_a_stranger_may_not(api: Api) -> None:
    listing = create(api, user="alice")
    review = api.as_user(
        "bob", ADD_REVIEW, {"input": {"listingId": listing["id"], "rating": 1, "text": "Bad"}}
    )
    added = review["data"]["addReview"]
    key = {"listingId": listing["id"], "id": added["id"], "expectedVersion": added["version"]}

    stranger = only_error(api.as_user("carol", DELETE_REVIEW, {"input": key}))
    assert (
        stranger["errorType"] == "UnauthorizedError"
        and "author or the listing's owner" in stranger["message"]
    )
    # A stranger learns nothing about versions: the refusal comes before the version check.
    assert (
        only_error(api.as_user("carol", DELETE_REVIEW, {"input": {**key, "expectedVersion": "12"}}))[
            "errorType"
        ]
        == "UnauthorizedError"
    )
    assert (
        only_error(api.as_user("alice", DELETE_REVIEW, {"input": {**key, "expectedVersion": "12"}}))[
            "errorType"
        ]
        == "ConflictError"
    )
    by_owner = api.as_user("alice", DELETE_REVIEW, {"input": key})
    assert by_owner["data"]["deleteReview"] == {"id": added["id"], "version": added["version"]}, by_owner
    assert api.as_user("alice", GET, {"id": listing["id"]})["data"]["getListing"]["reviews"]["items"] == []
    gone = only_error(api.as_user("alice", DELETE_REVIEW, {"input": key}))
    assert gone["errorType"] == "NotFoundError"
    wrong_listing = {**key, "listingId": "other-listing"}
    assert (
        only_error(api.as_user("alice", DELETE_REVIEW, {"input": wrong_listing}))["errorType"]
        == "NotFoundError"
    )


def test_one_review_per_author_per_listing(api: Api) -> None:
    listing = create(api, user="alice")
    first_input = {"listingId": listing["id"], "rating": 4, "text": "Good"}
    first = api.as_user("bob", ADD_REVIEW, {"input": first_input})["data"]["addReview"]
    assert first["id"] == f"{listing['id']}.{first['author']}"
    # A retry (same content) is the stored review, as every create; other content is refused, typed.
    retry = api.as_user("bob", ADD_REVIEW, {"input": first_input})
    assert retry["data"]["addReview"] == first, retry
    second = only_error(
        api.as_user("bob", ADD_REVIEW, {"input": {**first_input, "rating": 1, "text": "Worse"}})
    )
    assert second["errorType"] == "AlreadyExistsError", second
    assert second["errorInfo"] == {"id": first["id"], "currentVersion": first["version"]}
    chosen = only_error(api.as_user("bob", ADD_REVIEW, {"input": {**first_input, "id": "my-own-id"}}))
    assert chosen["errorType"] == "ValidationError"
    got = api.as_user("alice", GET, {"id": listing["id"]})["data"]["getListing"]["reviews"]["items"]
    assert [(r["id"], r["text"]) for r in got] == [(first["id"], "Good")]
    # Another author may review the same listing.
    other = api.as_user("carol", ADD_REVIEW, {"input": first_input})["data"]["addReview"]
    assert other["id"] != first["id"]


REVIEW_PAGE = (
    "query($id: ID!, $limit: Int, $nextToken: String) { getListing(id: $id) { id"
    " reviews(limit: $limit, nextToken: $nextToken) { items { id author } nextToken } } }"
)


def test_get_listing_pages_its_reviews(api: Api) -> None:
    listing = create(api, user="alice")
    for n in range(5):
        variables = {"input": {"listingId": listing["id"], "rating": 3, "text": "ok", "author": f"a{n}"}}
        assert "errors" not in api.as_iam(ADD_REVIEW, variables)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        answer = api.as_api_key(REVIEW_PAGE, {"id": listing["id"], "limit": 2, "nextToken": token})
        page = answer["data"]["getListing"]["reviews"]
        assert len(page["items"]) <= 2, page
        seen += [review["author"] for review in page["items"]]
        pages += 1
        token = page["nextToken"]
        if token is None:
            break
    assert seen == [f"a{n}" for n in range(5)] and pages >= 3
    default = api.as_api_key(REVIEW_PAGE, {"id": listing["id"]})["data"]["getListing"]["reviews"]
    assert len(default["items"]) == 5 and default["nextToken"] is None
    for limit in (0, 101):
        too = api.as_api_key(REVIEW_PAGE, {"id": listing["id"], "limit": limit})
        assert only_error(too)["errorType"] == "ValidationError", too


def test_concurrent_updates_of_one_version_let_exactly_one_win(api: Api) -> None:
    created = create(api)
    answers: list[dict[str, Any]] = []

    def update(title: str) -> None:
        variables = {"input": {"id": created["id"], "expectedVersion": created["version"], "title": title}}
        answers.append(api.as_user("alice", UPDATE, variables))

    threads = [threading.Thread(target=update, args=(f"Writer {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [a["data"]["updateListing"] for a in answers if a.get("data")]
    losers = [only_error(a) for a in answers if not a.get("data")]
    assert len(winners) == 1, answers
    assert {e["errorType"] for e in losers} == {"ConflictError"}
    assert {e["errorInfo"]["currentVersion"] for e in losers} == {winners[0]["version"]}
    assert api.stored(created["id"])["title"] == {"S": winners[0]["title"]}  # type: ignore[index]


BY_OWNER = (
    "query($owner: String!, $limit: Int, $nextToken: String) { listingsByOwner(owner: $owner, limit: $limit,"
    " nextToken: $nextToken) { items { id owner createdAt version } nextToken } }"
)


def test_listings_by_owner_pages_newest_first(api: Api) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    made = [
        api.as_iam(CREATE, {"input": listing_input(owner=owner)})["data"]["createListing"] for _ in range(5)
    ]
    api.as_iam(CREATE, {"input": listing_input(owner=f"{owner}-other")})
    seen: list[dict[str, Any]] = []
    token = None
    for _ in range(5):
        page = api.as_api_key(BY_OWNER, {"owner": owner, "limit": 2, "nextToken": token})["data"][
            "listingsByOwner"
        ]
        seen.extend(page["items"])
        token = page["nextToken"]
        if token is None:
            break
    assert sorted(i["id"] for i in seen) == sorted(m["id"] for m in made), (
        "every listing once, no other owner's"
    )
    assert [i["createdAt"] for i in seen] == sorted((i["createdAt"] for i in seen), reverse=True)
    forged = api.as_api_key(BY_OWNER, {"owner": owner, "nextToken": "bm90IGEgdG9rZW4="})
    assert only_error(forged)["errorType"] == "ValidationError"
    assert (
        only_error(api.as_api_key(BY_OWNER, {"owner": owner, "limit": 0}))["errorType"] == "ValidationError"
    )
