"""searchListings end to end: listings created through the API, projected into osmem by the real
projector from moto's stream, and found again with text, filters, geo, sorts, facets and paging.

Every search filters on a tag unique to this module's listings, so the expected results are computed
exactly from what was created here.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from apikit import Api

CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id version createdAt } }"
UPDATE = "mutation($input: UpdateListingInput!) { updateListing(input: $input) { id version } }"
DELETE = "mutation($input: DeleteListingInput!) { deleteListing(input: $input) { id } }"
SEARCH = """
query($query: String, $filter: ListingFilter, $near: GeoRadiusInput, $sort: SearchSort, $limit: Int,
      $nextToken: String) {
  searchListings(query: $query, filter: $filter, near: $near, sort: $sort, limit: $limit,
                 nextToken: $nextToken) {
    total nextToken
    items { id title price category status owner city tags createdAt version distanceKm location { lat lon } }
    facets { categories { key count } priceRanges { from to count } }
  }
}"""
BERLIN = (52.52, 13.405)
PLACES = {"Berlin": [(52.52, 13.405), (52.50, 13.45), (52.55, 13.35)], "Potsdam": [(52.3906, 13.0645)],
          "Munich": [(48.137, 11.575)], "Hamburg": [(53.551, 9.993)]}  # fmt: skip
CATEGORIES = ["APARTMENT", "HOUSE", "ROOM", "STUDIO", "OFFICE", "LAND"]
PRICES = [50, 100, 100, 100, 250, 499.99, 500, 750, 1000, 1000, 4999, 5000, 12000]
PRICE_RANGES = [(None, 100), (100, 500), (500, 1000), (1000, 5000), (5000, None)]


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(h))


@pytest.fixture(scope="module")
def marker() -> str:
    return f"batch-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def seeded(api: Api, marker: str) -> list[dict[str, Any]]:
    """40 listings with known categories, prices (with ties), places, tags, statuses and owners."""
    places = [(city, point) for city, points in PLACES.items() for point in points]
    words = ["cosy", "bright", "quiet", "spacious", "penthouse"]
    listings = []
    for n in range(40):
        city, (lat, lon) = places[n % len(places)]
        spec = {
            "title": f"{words[n % 5]} {CATEGORIES[n % 6].lower()} number {n}",
            "description": "near the park" if n % 4 == 0 else "in the centre",
            "category": CATEGORIES[n % 6],
            "tags": [marker] + [t for i, t in enumerate(["balcony", "garden", "lift"]) if n % (i + 2) == 0],
            "price": PRICES[n % len(PRICES)],
            "currency": "EUR",
            "location": {"lat": lat + (n % 3) * 0.001, "lon": lon},
            "city": city,
            "status": ["ACTIVE", "ACTIVE", "PAUSED", "SOLD"][n % 4],
            "owner": f"owner-{'abc'[n % 3]}",
        }
        answer = api.as_iam(CREATE, {"input": spec})
        assert "errors" not in answer, answer
        listings.append({**spec, **answer["data"]["createListing"]})
    api.project()
    return listings


def search(api: Api, marker: str, **variables: Any) -> dict[str, Any]:
    variables["filter"] = {
        **variables.get("filter", {}),
        "tags": [marker, *variables.get("filter", {}).get("tags", [])],
    }
    answer = api.as_user("searcher", SEARCH, variables)
    assert "errors" not in answer, answer
    result: dict[str, Any] = answer["data"]["searchListings"]
    return result


def all_pages(api: Api, marker: str, **variables: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(100):
        page = search(api, marker, **variables, nextToken=token)
        items.extend(page["items"])
        token = page["nextToken"]
        if token is None:
            return items
    raise AssertionError("paging did not end")


def test_projected_listings_are_found_with_their_versions(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    found = all_pages(api, marker, limit=100)
    assert sorted(i["id"] for i in found) == sorted(s["id"] for s in seeded)
    by_id = {s["id"]: s for s in seeded}
    assert all(i["version"] == by_id[i["id"]]["version"] for i in found)


def test_text_search_matches_words_and_never_parses_user_text(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    penthouses = {s["id"] for s in seeded if "penthouse" in s["title"]}
    result = search(api, marker, query="Penthouse", limit=100)
    assert {i["id"] for i in result["items"]} == penthouses and result["total"] == len(penthouses)
    park = search(api, marker, query="park", limit=100)
    assert {i["id"] for i in park["items"]} == {s["id"] for s in seeded if "park" in s["description"]}
    for hostile in ["title:penthouse OR *", '{"match_all": {}}', "*", 'penthouse" OR "1"="1']:
        result = search(api, marker, query=hostile, limit=100)
        assert result["total"] < len(seeded), hostile


def test_filters_select_exactly_the_matching_listings(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    cases: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ({"categories": ["HOUSE", "LAND"]}, lambda s: s["category"] in {"HOUSE", "LAND"}),
        ({"tags": ["balcony", "garden"]}, lambda s: {"balcony", "garden"} <= set(s["tags"])),
        ({"minPrice": 100, "maxPrice": 1000}, lambda s: 100 <= s["price"] <= 1000),
        ({"statuses": ["PAUSED", "SOLD"]}, lambda s: s["status"] in {"PAUSED", "SOLD"}),
        ({"owner": "owner-b", "city": "Berlin"}, lambda s: s["owner"] == "owner-b" and s["city"] == "Berlin"),
    ]
    for listing_filter, wanted in cases:
        result = search(api, marker, filter=listing_filter, limit=100)
        expected = {s["id"] for s in seeded if wanted(s)}
        assert expected, listing_filter
        assert {i["id"] for i in result["items"]} == expected, listing_filter
        assert result["total"] == len(expected)


def test_geo_radius_and_distance_sort(api: Api, marker: str, seeded: list[dict[str, Any]]) -> None:
    near = {"lat": BERLIN[0], "lon": BERLIN[1], "radiusKm": 50}
    result = search(api, marker, near=near, sort="DISTANCE", limit=100)
    distance = {s["id"]: km(BERLIN, (s["location"]["lat"], s["location"]["lon"])) for s in seeded}
    assert {i["id"] for i in result["items"]} == {i for i, d in distance.items() if d <= 50}
    assert any(s["city"] == "Potsdam" for s in result["items"]) and all(
        s["city"] != "Munich" for s in result["items"]
    )
    kms = [i["distanceKm"] for i in result["items"]]
    assert kms == sorted(kms)
    for item in result["items"]:
        assert item["distanceKm"] == pytest.approx(distance[item["id"]], abs=0.05)


# osmem rounds `_score` sort values to 6 decimals, so `search_after` on a rounded score skips every
# hit whose real score is a hair above it; OpenSearch returns scores exactly (devstack/appsync/README.md).
OSMEM_SCORE_ROUNDING = pytest.mark.xfail(strict=True, reason="osmem rounds _score sort values")


@pytest.mark.parametrize(
    "sort", ["PRICE_ASC", "PRICE_DESC", "NEWEST", pytest.param("RELEVANCE", marks=OSMEM_SCORE_ROUNDING)]
)
def test_paging_never_repeats_or_skips_and_keeps_the_sort(
    api: Api, marker: str, seeded: list[dict[str, Any]], sort: str
) -> None:
    query = "number" if sort == "RELEVANCE" else None
    pages = all_pages(api, marker, sort=sort, limit=7, query=query)
    ids = [i["id"] for i in pages]
    assert len(ids) == len(set(ids)) == len(seeded)
    if sort == "PRICE_ASC":
        assert ids == [s["id"] for s in sorted(seeded, key=lambda s: (s["price"], s["id"]))]
    if sort == "PRICE_DESC":
        assert ids == [s["id"] for s in sorted(seeded, key=lambda s: (-s["price"], s["id"]))]
    if sort == "NEWEST":
        assert [i["createdAt"] for i in pages] == sorted((i["createdAt"] for i in pages), reverse=True)


def test_paging_stays_exact_while_listings_are_added(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    first = search(api, marker, sort="PRICE_ASC", limit=10, filter={"categories": ["APARTMENT", "ROOM"]})
    seen = [i["id"] for i in first["items"]]
    boundary = first["items"][-1]["price"]
    cheap = {
        "title": "late cheap",
        "category": "ROOM",
        "tags": [marker, "late"],
        "price": 0,
        "currency": "EUR",
        "location": {"lat": 1, "lon": 1},
        "city": "Late",
        "owner": "owner-late",
    }
    dear = {**cheap, "title": "late dear", "price": 99999}
    late = [api.as_iam(CREATE, {"input": spec})["data"]["createListing"]["id"] for spec in (cheap, dear)]
    api.project()
    token = first["nextToken"]
    while token:
        page = search(api, marker, sort="PRICE_ASC", limit=10, filter={"categories": ["APARTMENT", "ROOM"]},
                      nextToken=token)  # fmt: skip
        seen.extend(i["id"] for i in page["items"])
        token = page["nextToken"]
    before = {s["id"] for s in seeded if s["category"] in {"APARTMENT", "ROOM"}}
    assert len(seen) == len(set(seen)), "a hit repeated"
    assert before <= set(seen), "a hit was skipped"
    assert late[0] not in seen and late[1] in seen, f"cursor was at price {boundary}"
    for listing_id in late:
        version = api.as_iam("query($id: ID!) { getListing(id: $id) { version } }", {"id": listing_id})
        api.as_iam(
            DELETE, {"input": {"id": listing_id, "expectedVersion": version["data"]["getListing"]["version"]}}
        )
    api.project()


def test_facets_count_categories_and_price_ranges(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    result = search(api, marker, filter={"statuses": ["ACTIVE"]}, limit=1)
    active = [s for s in seeded if s["status"] == "ACTIVE"]
    assert {(b["key"], b["count"]) for b in result["facets"]["categories"]} == set(
        Counter(s["category"] for s in active).items()
    )
    expected = [
        sum(1 for s in active if (low is None or s["price"] >= low) and (high is None or s["price"] < high))
        for low, high in PRICE_RANGES
    ]
    ranges = result["facets"]["priceRanges"]
    assert [(b["from"], b["to"]) for b in ranges] == [(lo, hi) for lo, hi in PRICE_RANGES]
    assert [b["count"] for b in ranges] == expected
    assert result["total"] == len(active) and len(result["items"]) == 1


def test_updates_and_deletes_reach_search_and_tombstones_stay_hidden(
    api: Api, marker: str, seeded: list[dict[str, Any]]
) -> None:
    target, victim = seeded[0], seeded[1]
    updated = api.as_iam(UPDATE, {"input": {"id": target["id"], "expectedVersion": target["version"],
                                            "title": "renovated xylophone studio"}})  # fmt: skip
    assert "errors" not in updated, updated
    assert api.as_iam(DELETE, {"input": {"id": victim["id"], "expectedVersion": victim["version"]}}).get(
        "data"
    )
    api.project()
    assert [i["id"] for i in search(api, marker, query="xylophone")["items"]] == [target["id"]]
    remaining = all_pages(api, marker, limit=50)
    assert victim["id"] not in {i["id"] for i in remaining}
    assert len(remaining) == len(seeded) - 1
    # Put the module's data back as the other tests expect it.
    recreated = api.as_iam(
        CREATE,
        {"input": {k: victim[k] for k in ("title", "description", "category", "tags", "price", "currency",
                                          "location", "city", "status", "owner")} | {"id": victim["id"]}},
    )  # fmt: skip
    assert "errors" not in recreated, recreated
    api.project()
    assert victim["id"] in {i["id"] for i in all_pages(api, marker, limit=50)}, (
        "re-created key outranks its tombstone"
    )
    victim.update(recreated["data"]["createListing"])


def test_bad_search_arguments_are_validation_errors(api: Api, marker: str) -> None:
    for variables in ({"limit": 0}, {"limit": 500}, {"sort": "DISTANCE"}, {"nextToken": "forged"},
                      {"nextToken": "UFJJQ0VfQVNDfDF8eA==", "sort": "NEWEST"}):  # fmt: skip
        answer = api.as_user("searcher", SEARCH, variables)
        assert answer["errors"][0]["errorType"] == "ValidationError", variables
        assert answer["data"] is None
