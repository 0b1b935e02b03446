"""stackclient.items builds the items the resolvers write and follows their version rule;
stackclient.lambda_wire gives records and items the shape Lambda delivers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stackclient.items import listing_item, review_item, to_attribute, version_at, version_of
from stackclient.lambda_wire import lambda_record, wire_item


def test_versions_follow_the_clock_and_always_rise() -> None:
    assert version_at(1_700_000_000_000) == 1_700_000_000_000_000  # create: millis * 1000
    assert version_at(1_700_000_000_000, expected=5) == 1_700_000_000_000_000  # the clock is ahead
    ahead = 1_700_000_000_000_000 + 7  # the stored version is ahead of this clock
    assert version_at(1_700_000_000_000, expected=ahead) == ahead + 1
    assert version_of("2026-01-01T00:00:00.000Z") == 1_767_225_600_000_000


def test_a_listing_row_becomes_the_item_create_listing_writes() -> None:
    row = {
        "id": "l1", "title": "Loft", "category": "STUDIO", "price": Decimal("99.5"), "currency": "EUR",
        "location": {"lat": 1.5, "lon": -2}, "city": "Porto", "owner": "ana",
        "createdAt": "2026-01-01T00:00:00.000Z",
    }  # fmt: skip
    item = listing_item(row)
    assert item["pk"] == {"S": "LISTING#l1"} and item["sk"] == {"S": "LISTING"}
    assert item["type"] == {"S": "Listing"} and item["status"] == {"S": "ACTIVE"}
    assert item["gsi1pk"] == {"S": "OWNER#ana"}
    assert item["gsi1sk"] == {"S": "LISTING#2026-01-01T00:00:00.000Z#l1"}
    assert item["updatedAt"] == item["createdAt"] and item["description"] == {"S": ""}
    assert item["price"] == {"N": "99.5"} and item["tags"] == {"L": []}
    assert item["location"] == {"M": {"lat": {"N": "1.5"}, "lon": {"N": "-2"}}}
    assert item["version"] == {"N": "1767225600000000"}
    assert listing_item(row, version=7)["version"] == {"N": "7"}


def test_a_review_row_becomes_the_item_add_review_writes() -> None:
    row = {
        "listingId": "l1",
        "rating": 5,
        "text": "Fine",
        "author": "bo",
        "createdAt": "2026-01-02T00:00:00Z",
    }
    item = review_item(row, version=3)
    # One review per author per listing: the author is the sort key, and the id is derived from both.
    assert item["pk"] == {"S": "LISTING#l1"} and item["sk"] == {"S": "REVIEW#bo"}
    assert item["id"] == {"S": "l1.bo"}
    assert item["type"] == {"S": "Review"} and item["rating"] == {"N": "5"} and item["version"] == {"N": "3"}


def test_attributes_keep_booleans_apart_from_numbers() -> None:
    assert to_attribute(True) == {"BOOL": True} and to_attribute(1) == {"N": "1"}
    assert to_attribute(Decimal("1E+3")) == {"N": "1E+3"} and to_attribute(0.1) == {"N": "0.1"}


def test_records_and_items_get_lambdas_shape() -> None:
    parsed: dict[str, Any] = {
        "eventName": "INSERT",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, 0, 0, 1, 900_000, tzinfo=UTC),
            "Keys": {"pk": {"S": "k"}},
            "NewImage": {"pk": {"S": "k"}, "blob": {"B": b"\x00\x01"}, "nested": {"L": [{"BS": [b"x"]}]}},
            "SequenceNumber": "1",
        },
    }
    shaped = lambda_record(parsed, "arn:stream")
    assert shaped["eventSourceARN"] == "arn:stream" and shaped["eventSource"] == "aws:dynamodb"
    assert shaped["awsRegion"] == "us-east-1"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1_767_225_601.0  # epoch s, rounded down
    image = shaped["dynamodb"]["NewImage"]
    assert image["blob"] == {"B": base64.b64encode(b"\x00\x01").decode()}
    assert image["nested"] == {"L": [{"BS": [base64.b64encode(b"x").decode()]}]}
    assert parsed["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\x01"}  # the input is left as it was
    assert wire_item({"m": {"M": {"b": {"B": b"z"}}}}) == {"m": {"M": {"b": {"B": "eg=="}}}}
