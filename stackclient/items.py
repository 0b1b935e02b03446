"""Listings and reviews as the write side stores them: DynamoDB items (docs/design.md §1) and versions (§3).

The seed writes the fixtures with these builders, the benchmarks generate their workloads with them and the
tests (tests/support) build their items with them, so an item written by any of them has the shape the
resolvers write.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from stackclient.lambda_wire import Item

# The fields of the GraphQL inputs `CreateListingInput` and `AddReviewInput`: what a caller chooses; the
# resolvers add keys, type, timestamps and version.
LISTING_INPUT = ("id", "title", "description", "category", "tags", "price", "currency", "location", "city",
                 "status", "owner")  # fmt: skip
REVIEW_INPUT = ("id", "listingId", "rating", "text", "author")


def version_at(epoch_millis: int, expected: int | None = None) -> int:
    """docs/design.md §3: a create gets `millis * 1000`; an update of version `e` gets
    `max(e + 1, millis * 1000)`, so versions follow the clock and a re-created key outranks its tombstone."""
    now = epoch_millis * 1000
    return now if expected is None else max(expected + 1, now)


def new_version(expected: int | None = None) -> int:
    """The version a resolver would write now (create, or update of version `expected`)."""
    return version_at(int(time.time() * 1000), expected)


def version_of(created_at: str) -> int:
    """The create version of an item created at `created_at` (ISO-8601): a re-run of the seed writes the
    same version."""
    millis = round(datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp() * 1000)
    return version_at(millis)


def to_attribute(value: Any) -> dict[str, Any]:
    """A plain JSON value (or a Decimal) as a DynamoDB attribute value in wire form."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: to_attribute(item) for key, item in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__}")


def listing_item(data: Mapping[str, Any], version: int | None = None) -> Item:
    """A listing row (the `CreateListingInput` fields plus `createdAt`) as the item createListing writes.

    `version` defaults to the create version of `createdAt` (`version_of`); an `updatedAt` in the row
    stands for a later update.
    """
    item = {
        **{name: data[name] for name in LISTING_INPUT if name in data},
        "pk": f"LISTING#{data['id']}",
        "sk": "LISTING",
        "type": "Listing",
        "description": data.get("description", ""),
        "tags": data.get("tags", []),
        "status": data.get("status", "ACTIVE"),
        "createdAt": data["createdAt"],
        "updatedAt": data.get("updatedAt", data["createdAt"]),
        "version": version_of(data["createdAt"]) if version is None else version,
        "gsi1pk": f"OWNER#{data['owner']}",
        "gsi1sk": f"LISTING#{data['createdAt']}#{data['id']}",
    }
    return {key: to_attribute(value) for key, value in item.items()}


def review_id(listing_id: str, author: str) -> str:
    """A review's id, as addReview derives it: one review per author per listing (docs/design.md §1)."""
    return f"{listing_id}.{author}"


def review_item(data: Mapping[str, Any], version: int | None = None) -> Item:
    """A review row (the `AddReviewInput` fields plus `createdAt`) as the item addReview writes (a row's
    `id`, if any, is replaced by the derived one, as addReview refuses any other)."""
    item = {
        **{name: data[name] for name in REVIEW_INPUT if name in data},
        "id": review_id(data["listingId"], data["author"]),
        "pk": f"LISTING#{data['listingId']}",
        "sk": f"REVIEW#{data['author']}",
        "type": "Review",
        "createdAt": data["createdAt"],
        "version": version_of(data["createdAt"]) if version is None else version,
    }
    return {key: to_attribute(value) for key, value in item.items()}
