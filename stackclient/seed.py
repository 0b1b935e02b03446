"""Load the fixture listings and reviews into a stack: through GraphQL, or straight into DynamoDB.

Rows are JSON lines. A row that fails validation, or that the API rejects as invalid, is reported by
file and line number and the rest still load. Both ways are idempotent: GraphQL creates carry the
fixture's id, and an id that already exists is left as it is (same data, same version); direct writes
derive each version from the row's `createdAt`, so a second run writes the very same items.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

from stackclient.errors import GraphQLError, SeedError
from stackclient.graphql import GraphQLClient
from stackclient.items import LISTING_INPUT, REVIEW_INPUT, listing_item, review_id, review_item

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "scripts" / "fixtures"
CATEGORIES = ("APARTMENT", "HOUSE", "ROOM", "STUDIO", "OFFICE", "LAND")
STATUSES = ("ACTIVE", "PAUSED", "SOLD")
ROW_ERRORS = ("ValidationError", "NotFoundError")  # the row is bad; other errors stop the run


@dataclass(frozen=True)
class Row:
    path: Path
    line: int
    data: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


@dataclass
class Report:
    written: int = 0
    existing: int = 0
    bad: list[str] = field(default_factory=list)


# -- validation ---------------------------------------------------------------------------------------


def _text(row: dict[str, Any], name: str, low: int, high: int, problems: list[str]) -> None:
    value = row.get(name)
    if not isinstance(value, str) or not low <= len(value) <= high:
        problems.append(f"{name} must be a string of {low}-{high} characters")


def _timestamp(row: dict[str, Any], problems: list[str]) -> None:
    value = row.get("createdAt")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append("createdAt must be an ISO-8601 timestamp")
        return
    if parsed.tzinfo is None:
        problems.append("createdAt must carry a time zone (Z)")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _id(row: dict[str, Any], name: str, problems: list[str]) -> None:
    if not isinstance(row.get(name), str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", row[name]):
        problems.append(f"{name} must be 1-64 characters of A-Z, a-z, 0-9, _ or -")


def validate_listing(row: dict[str, Any]) -> list[str]:
    """Problems with one listing row (the Listing attributes of docs/design.md §1); empty when valid."""
    problems: list[str] = []
    _id(row, "id", problems)
    _text(row, "title", 1, 200, problems)
    _text(row, "description", 0, 5000, problems)
    _text(row, "city", 1, 200, problems)
    _text(row, "owner", 1, 128, problems)
    if row.get("category") not in CATEGORIES:
        problems.append(f"category must be one of {', '.join(CATEGORIES)}")
    if row.get("status", "ACTIVE") not in STATUSES:
        problems.append(f"status must be one of {', '.join(STATUSES)}")
    tags = row.get("tags", [])
    if (
        not isinstance(tags, list)
        or len(tags) > 20
        or not all(isinstance(t, str) and 1 <= len(t) <= 40 for t in tags)
    ):
        problems.append("tags must be a list of 0-20 strings of 1-40 characters")
    price = row.get("price")
    if not isinstance(price, int | float) or not _number(price) or price < 0 or round(price, 2) != price:
        problems.append("price must be a number >= 0 with at most 2 decimals")
    if not isinstance(row.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", row["currency"]):
        problems.append("currency must be 3 upper-case letters (ISO 4217)")
    location = row.get("location")
    if not (
        isinstance(location, dict)
        and _number(location.get("lat"))
        and _number(location.get("lon"))
        and -90 <= location["lat"] <= 90
        and -180 <= location["lon"] <= 180
    ):
        problems.append("location must be {lat: -90..90, lon: -180..180}")
    _timestamp(row, problems)
    return problems


def validate_review(row: dict[str, Any], listing_ids: set[str]) -> list[str]:
    """Problems with one review row; `listing_ids` are the listings this data set defines."""
    problems: list[str] = []
    _id(row, "listingId", problems)
    _text(row, "text", 1, 2000, problems)
    author = row.get("author")
    if not isinstance(author, str) or not re.fullmatch(r"[!-~]{1,128}", author):
        problems.append("author must be 1-128 printable ASCII characters without spaces")
    elif "id" in row and row["id"] != review_id(str(row.get("listingId")), author):
        # One review per author per listing: its id is derived (docs/design.md §1), never chosen.
        problems.append("id must be <listingId>.<author> (or absent)")
    rating = row.get("rating")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        problems.append("rating must be an integer 1-5")
    if row.get("listingId") not in listing_ids:
        problems.append("listingId names no valid listing of the fixtures")
    _timestamp(row, problems)
    return problems


def read_rows(path: Path, validate: Callable[[dict[str, Any]], list[str]], report: Report) -> list[Row]:
    """The valid rows of a JSON-lines file; every bad one is added to `report.bad` with its line."""
    rows: list[Row] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            report.bad.append(f"{path.name}:{number}: not valid JSON ({error.msg})")
            continue
        problems = validate(data) if isinstance(data, dict) else ["a row must be a JSON object"]
        if problems:
            report.bad.append(f"{path.name}:{number}: {'; '.join(problems)}")
        else:
            rows.append(Row(path, number, data))
    return rows


# -- writers ------------------------------------------------------------------------------------------


class Writer(Protocol):
    def listings(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None: ...
    def reviews(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None: ...


CREATE_LISTING = """
mutation Seed($input: CreateListingInput!) { createListing(input: $input) { id version createdAt } }
"""
ADD_REVIEW = """
mutation Seed($input: AddReviewInput!) { addReview(input: $input) { id version createdAt } }
"""


class GraphQLWriter:
    """Writes through the API (IAM callers may set `owner` and `author`), a few requests at a time."""

    def __init__(self, client: GraphQLClient, concurrency: int = 8) -> None:
        self.client = client
        self.concurrency = concurrency

    def _run(
        self,
        rows: list[Row],
        mutation: str,
        fields: tuple[str, ...],
        report: Report,
        progress: Callable[[int], None],
    ) -> None:
        # A create repeated with the same id and content answers with the stored item (the resolvers make
        # retries idempotent): it was already there if it was created before this run began.
        began = datetime.now(UTC) - timedelta(seconds=1)

        def one(row: Row) -> str | None:
            variables = {"input": {name: row.data[name] for name in fields if name in row.data}}
            try:
                answer = next(iter(self.client.execute(mutation, variables).values()))
                if datetime.fromisoformat(answer["createdAt"].replace("Z", "+00:00")) < began:
                    return "existing"
            except GraphQLError as error:
                if error.error_type == "AlreadyExistsError":
                    return "existing"
                if error.error_type in ROW_ERRORS:
                    return f"{row.where}: {error}"
                raise SeedError(f"{row.where}: the API refused the write: {error}") from error
            return None

        with ThreadPoolExecutor(self.concurrency) as pool:
            for done, outcome in enumerate(pool.map(one, rows), start=1):
                if outcome is None:
                    report.written += 1
                elif outcome == "existing":
                    report.existing += 1
                else:
                    report.bad.append(outcome)
                progress(done)

    def listings(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None:
        self._run(rows, CREATE_LISTING, LISTING_INPUT, report, progress)

    def reviews(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None:
        self._run(rows, ADD_REVIEW, REVIEW_INPUT, report, progress)


class DirectWriter:
    """`BatchWriteItem`, 25 items a request, retrying unprocessed items with backoff."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def _write(self, items: list[dict[str, Any]], report: Report, progress: Callable[[int], None]) -> None:
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            delay = 0.05
            while requests:
                answer = self.dynamodb.batch_write_item(RequestItems={self.table_name: requests})
                requests = answer.get("UnprocessedItems", {}).get(self.table_name, [])
                if requests:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
            report.written += len(items[start : start + 25])
            progress(min(start + 25, len(items)))

    def listings(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None:
        self._write([listing_item(row.data) for row in rows], report, progress)

    def reviews(self, rows: list[Row], report: Report, progress: Callable[[int], None]) -> None:
        self._write([review_item(row.data) for row in rows], report, progress)


# -- the run ------------------------------------------------------------------------------------------


def _progress(label: str, total: int, out: TextIO) -> Callable[[int], None]:
    last = [0.0]

    def show(done: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 1.0:
            last[0] = now
            out.write(f"  {label}: {done}/{total}\n")
            out.flush()

    return show


def seed(
    writer: Writer,
    listings_path: Path = FIXTURES_DIR / "listings.jsonl",
    reviews_path: Path | None = FIXTURES_DIR / "reviews.jsonl",
    out: TextIO = sys.stderr,
    limit: int | None = None,
) -> tuple[Report, Report]:
    """Load listings, then their reviews; `limit` keeps the first N listings (and only their reviews)."""
    listings_report, reviews_report = Report(), Report()
    listings = read_rows(listings_path, validate_listing, listings_report)[:limit]
    ids = {row.data["id"] for row in listings}
    writer.listings(listings, listings_report, _progress("listings", len(listings), out))
    reviews: Iterable[Row] = []
    if reviews_path is not None:
        all_ids = ids if limit is None else ids | _all_ids(listings_path)
        reviews = [
            row
            for row in read_rows(reviews_path, lambda data: validate_review(data, all_ids), reviews_report)
            if row.data["listingId"] in ids
        ]
    review_rows = list(reviews)
    writer.reviews(review_rows, reviews_report, _progress("reviews", len(review_rows), out))
    return listings_report, reviews_report


def _all_ids(listings_path: Path) -> set[str]:
    return {row.data["id"] for row in read_rows(listings_path, validate_listing, Report())}
