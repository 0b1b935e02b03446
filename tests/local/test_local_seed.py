"""The fixture data set, its validation, and direct seeding into moto's DynamoDB."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.servers import ChildServer, free_port
from stackclient.items import version_of
from stackclient.seed import FIXTURES_DIR, DirectWriter, Report, read_rows, seed, validate_listing

REPO = Path(__file__).resolve().parents[2]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_fixtures_are_a_realistic_valid_data_set() -> None:
    report = Report()
    listings = read_rows(FIXTURES_DIR / "listings.jsonl", validate_listing, report)
    assert report.bad == [] and len(listings) >= 500
    rows = [row.data for row in listings]
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["city"] for row in rows}) >= 8
    assert {row["category"] for row in rows} == {"APARTMENT", "HOUSE", "ROOM", "STUDIO", "OFFICE", "LAND"}
    assert len({tag for row in rows for tag in row["tags"]}) >= 30
    berlin = [row["location"] for row in rows if row["city"] == "Berlin"]
    assert all(52.3 < p["lat"] < 52.7 and 13.1 < p["lon"] < 13.7 for p in berlin)  # real places
    reviews = lines(FIXTURES_DIR / "reviews.jsonl")
    assert len(reviews) >= 500 and {r["listingId"] for r in reviews} <= {row["id"] for row in rows}


def test_fixtures_are_what_the_generator_makes(tmp_path: Path) -> None:
    """The committed data is reproducible from its script (no hand edits drift from it)."""
    script = (
        (FIXTURES_DIR / "generate.py")
        .read_text()
        .replace("HERE = Path(__file__).resolve().parent", f"HERE = Path({str(tmp_path)!r})")
    )
    (tmp_path / "generate.py").write_text(script)
    subprocess.run([sys.executable, str(tmp_path / "generate.py")], check=True, capture_output=True)
    for name in ("listings.jsonl", "reviews.jsonl"):
        assert (tmp_path / name).read_text() == (FIXTURES_DIR / name).read_text()


@pytest.fixture
def table(moto_server: ChildServer) -> str:
    from devstack.resources import create_resources

    return create_resources(moto_server.url, table_name=f"seed-{uuid.uuid4().hex[:8]}").table_name


def scan(server: ChildServer, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items = boto3.client("dynamodb", endpoint_url=server.url).scan(TableName=table)["Items"]
    return {(item["pk"]["S"], item["sk"]["S"]): item for item in items}


def test_bad_rows_are_reported_by_line_and_the_rest_load(
    moto_server: ChildServer, table: str, tmp_path: Path
) -> None:
    good = lines(FIXTURES_DIR / "listings.jsonl")[:3]
    listings = tmp_path / "listings.jsonl"
    listings.write_text(
        "\n".join(
            [
                json.dumps(good[0]),
                json.dumps({**good[1], "price": -5}),
                "{not json",
                json.dumps({**good[2], "category": "CASTLE", "currency": "euro"}),
                json.dumps({**good[2]}),
            ]
        )
        + "\n"
    )
    reviews = tmp_path / "reviews.jsonl"
    # A review's id is derived, <listingId>.<author> (docs/design.md §1); a row may leave it out.
    review = {"id": f"{good[0]['id']}.a", "listingId": good[0]["id"], "rating": 5, "text": "Great",
              "author": "a", "createdAt": "2025-01-02T00:00:00.000Z"}  # fmt: skip
    bad_review = {**review, "author": "b", "rating": 9}
    del bad_review["id"]
    reviews.write_text(json.dumps(review) + "\n" + json.dumps(bad_review) + "\n")
    writer = DirectWriter(boto3.client("dynamodb", endpoint_url=moto_server.url), table)

    listing_report, review_report = seed(writer, listings, reviews, out=io.StringIO())

    assert listing_report.written == 2 and review_report.written == 1
    assert [problem.split(":")[:2] for problem in listing_report.bad] == [
        ["listings.jsonl", "2"],
        ["listings.jsonl", "3"],
        ["listings.jsonl", "4"],
    ]
    assert "price must be a number >= 0" in listing_report.bad[0]
    assert "category must be one of" in listing_report.bad[2] and "currency" in listing_report.bad[2]
    assert review_report.bad == ["reviews.jsonl:2: rating must be an integer 1-5"]
    assert len(scan(moto_server, table)) == 3


def test_direct_seed_writes_design_items_and_is_idempotent(moto_server: ChildServer, table: str) -> None:
    writer = DirectWriter(boto3.client("dynamodb", endpoint_url=moto_server.url), table)
    seed(writer, limit=20, out=io.StringIO())
    first = scan(moto_server, table)
    seed(writer, limit=20, out=io.StringIO())
    second = scan(moto_server, table)

    assert first == second
    listing = lines(FIXTURES_DIR / "listings.jsonl")[0]
    item = first[(f"LISTING#{listing['id']}", "LISTING")]
    assert item["type"] == {"S": "Listing"}
    assert item["version"] == {"N": str(version_of(listing["createdAt"]))}
    assert item["gsi1pk"] == {"S": f"OWNER#{listing['owner']}"}
    assert item["location"] == {
        "M": {"lat": {"N": repr(listing["location"]["lat"])}, "lon": {"N": repr(listing["location"]["lon"])}}
    }
    assert sum(1 for _, sk in first if sk == "LISTING") == 20
    assert any(sk.startswith("REVIEW#") for _, sk in first)


def run_seed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/seed.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    stack = {
        "graphql_url": f"{dead}/graphql", "region": "us-east-1", "table_name": "t", "search_endpoint": dead,
        "dead_letter_queue_url": f"{dead}/q", "dynamodb_endpoint": dead, "sqs_endpoint": dead,
    }  # fmt: skip
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps(stack))

    graphql = run_seed("--stack-file", str(stack_file), "--limit", "1")
    assert graphql.returncode == 1
    assert f"EndpointUnreachable: cannot reach the GraphQL endpoint {dead}/graphql" in graphql.stderr
    assert "Traceback" not in graphql.stderr

    direct = run_seed("--stack-file", str(stack_file), "--direct", "--limit", "1")
    assert (
        direct.returncode == 1
        and "EndpointConnectionError" in direct.stderr
        and "Traceback" not in direct.stderr
    )


def test_missing_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = run_seed("--stack-file", str(tmp_path / "nope.json"))
    assert result.returncode == 1 and "StackNotFoundError" in result.stderr and "make demo" in result.stderr


def test_a_missing_terraform_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = run_seed("--terraform-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "StackNotFoundError" in result.stderr and "nowhere" in result.stderr
    assert "Traceback" not in result.stderr
