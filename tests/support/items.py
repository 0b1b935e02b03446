"""Listing and review items in DynamoDB wire form, with fixed values the tests can assert on.

The shape comes from `stackclient.items`, the builders the seed and the benchmarks use, so a test item is
what createListing and addReview write (docs/design.md §1); the version is the caller's (the tests choose
versions to order writes; `stackclient.items.new_version` gives the resolvers' version for now).

The defaults were reconciled from the copies they replace: the projector tests' values (Berlin, "Sunny
flat", price 1250.5, alice and bob), which those tests assert on; the ops tests' random price and city,
which no assertion read, are gone, so a failing ops test now reproduces with the same items.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stackclient.items import listing_item, review_item
from stackclient.lambda_wire import Item

CREATED_AT = "2026-01-01T00:00:00.000Z"
REVIEWED_AT = "2026-01-02T00:00:00.000Z"


def listing(
    listing_id: str, version: int, title: str = "Sunny flat", price: str = "1250.5", **overrides: Any
) -> Item:
    """A Listing item as the write side stores it.

    `price` is a DynamoDB number as text, so a test can give one no float holds exactly; `overrides` are
    attributes in wire form (`city={"S": "Faro"}`, `expiresAt={"N": "1700000000"}`) that replace or add to
    the item's.
    """
    row = {
        "id": listing_id,
        "title": title,
        "description": "Two rooms, balcony, close to the park.",
        "category": "APARTMENT",
        "tags": ["balcony", "park"],
        "price": Decimal(price),
        "currency": "EUR",
        "location": {"lat": Decimal("52.52"), "lon": Decimal("13.405")},
        "city": "Berlin",
        "owner": "alice",
        "status": "ACTIVE",
        "createdAt": CREATED_AT,
    }
    return {**listing_item(row, version), **overrides}


def review(listing_id: str, author: str, version: int, rating: str = "4", **overrides: Any) -> Item:
    """The review `author` wrote on listing `listing_id` as the write side stores it (its id is
    `<listing_id>.<author>`, docs/design.md §1); `overrides` as for `listing`."""
    row = {
        "listingId": listing_id,
        "rating": Decimal(rating),
        "text": "Lovely place.",
        "author": author,
        "createdAt": REVIEWED_AT,
    }
    return {**review_item(row, version), **overrides}
