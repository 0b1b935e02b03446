"""The one-command demo: start the local stack, seed it, wait for the projection, search, report the lag,
then serve the web page on a free loopback port until Ctrl-C (built meanwhile, devstack/webpage.py)."""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

import boto3
import requests

from devstack.stack import DEFAULT_STATE_DIR, LocalStack, StackOptions
from devstack.webpage import DEMO_USERS, PageBuild, PageServer, chromium_command, page_config
from stackclient.graphql import GraphQLClient
from stackclient.seed import DirectWriter, GraphQLWriter, seed
from stackclient.stack import graphql_credentials, stack_from_mapping

SEARCH = """
query Search($query: String, $filter: ListingFilter, $near: GeoRadiusInput, $sort: SearchSort, $limit: Int) {
  searchListings(query: $query, filter: $filter, near: $near, sort: $sort, limit: $limit) {
    total
    items { id title city price currency category distanceKm version }
    facets { categories { key count } priceRanges { from to count } }
  }
}
"""
CREATE = """
mutation Create($input: CreateListingInput!) { createListing(input: $input) { id version } }
"""


def search_count(search_endpoint: str, alias: str) -> int:
    """Documents behind a read alias (tombstones filtered out)."""
    answer = requests.get(f"{search_endpoint}/{alias}/_count", timeout=10)
    answer.raise_for_status()
    count: int = answer.json()["count"]
    return count


def wait_for_projection(search_endpoint: str, expected: dict[str, int], timeout_s: float = 120.0) -> float:
    """Seconds until every read alias holds its expected count; TimeoutError names what is missing."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    while time.monotonic() - started < timeout_s:
        counts = {alias: search_count(search_endpoint, alias) for alias in expected}
        if counts == expected:
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(
        f"projection did not catch up within {timeout_s:.0f} s: have {counts}, want {expected}"
    )


def measure_lag(writer: GraphQLClient, reader: GraphQLClient, samples: int = 10) -> list[float]:
    """Milliseconds from a createListing's answer until searchListings finds it, per sample."""
    lags = []
    for number in range(samples):
        token = f"lagprobe{uuid.uuid4().hex[:10]}"
        listing = {
            "title": f"Demo probe {token}",
            "category": "STUDIO",
            "price": 900 + number,
            "currency": "EUR",
            "location": {"lat": 52.52, "lon": 13.405},
            "city": "Berlin",
            "owner": "demo",
        }
        writer.execute(CREATE, {"input": listing})
        written = time.monotonic()
        while time.monotonic() - written < 30:
            found = reader.execute(SEARCH, {"query": token, "limit": 1})["searchListings"]["total"]
            if found:
                lags.append((time.monotonic() - written) * 1000)
                break
            time.sleep(0.01)
        else:
            raise TimeoutError(f"probe {token} never became searchable")
    return lags


def _print_results(title: str, result: dict[str, Any], out: TextIO) -> None:
    out.write(f"\n== {title}: {result['total']} matches\n")
    for item in result["items"]:
        distance = f"  {item['distanceKm']:.2f} km" if item.get("distanceKm") is not None else ""
        price = f"{item['price']:>10,.0f} {item['currency']}"
        out.write(f"   {item['title'][:48]:<48} {item['city']:<12} {price}{distance}\n")


def _print_facets(result: dict[str, Any], out: TextIO) -> None:
    facets = result["facets"]
    out.write("   categories: " + ", ".join(f"{b['key']} {b['count']}" for b in facets["categories"]) + "\n")
    ranges = []
    for bucket in facets["priceRanges"]:
        low = "" if bucket["from"] is None else f"{bucket['from']:,.0f}"
        high = "" if bucket["to"] is None else f"{bucket['to']:,.0f}"
        ranges.append(f"{low}-{high}: {bucket['count']}")
    out.write("   price ranges: " + ", ".join(ranges) + "\n")


def example_searches(reader: GraphQLClient, out: TextIO) -> None:
    text = reader.execute(SEARCH, {"query": "loft", "limit": 5})["searchListings"]
    _print_results('text "loft"', text, out)
    near = {"lat": 52.4986, "lon": 13.4030, "radiusKm": 2.0}  # Kreuzberg, Berlin
    geo = reader.execute(SEARCH, {"near": near, "sort": "DISTANCE", "limit": 5})["searchListings"]
    _print_results("within 2 km of Kreuzberg, Berlin, nearest first", geo, out)
    faceted = reader.execute(SEARCH, {"filter": {"city": "Lisbon"}, "sort": "PRICE_ASC", "limit": 3})
    _print_results("Lisbon, cheapest first, with facets", faceted["searchListings"], out)
    _print_facets(faceted["searchListings"], out)


def run(
    once: bool,
    limit: int | None = None,
    out: TextIO = sys.stdout,
    state_dir: Path = DEFAULT_STATE_DIR,
    graphql_seed: bool = False,
) -> int:
    """The demo; returns the exit code."""
    started = time.monotonic()
    # The page builds while the stack starts and seeds; `--once` serves nothing, so it needs no page.
    build = None if once else PageBuild(state_dir / "web", typecheck=False).start()
    page = "" if once else " and building the web page"
    out.write(f"demo: starting the local stack (moto, osmem, AppSync endpoint, stream poller){page}...\n")
    out.flush()
    server: PageServer | None = None
    stack = LocalStack(StackOptions(state_dir=state_dir))
    try:
        info = stack.start()
        out.write(f"demo: stack up in {time.monotonic() - started:.1f} s; GraphQL at {info['graphql_url']}\n")
        ca_file = info["ca_file"]
        keys = graphql_credentials(stack_from_mapping(info, "the demo stack"))
        writer = GraphQLClient(
            info["graphql_url"], region=info["region"], auth="iam", ca_file=ca_file, credentials=keys
        )
        reader = GraphQLClient(
            info["graphql_url"],
            region=info["region"],
            auth="api_key",
            api_key=info["auth"]["api_key"],
            ca_file=ca_file,
        )
        seeding = time.monotonic()
        if graphql_seed:
            out.write("demo: seeding the fixtures through GraphQL (IAM)...\n")
            out.flush()
            listings, reviews = seed(GraphQLWriter(writer), out=out, limit=limit)
        else:
            # moto copies the whole table for each TransactWriteItems (the resolvers' one-item transactions),
            # so ~1,300 GraphQL creates take minutes locally; batch writes load the same items in seconds.
            out.write("demo: seeding the fixtures into DynamoDB (batch writes; or --graphql-seed)\n")
            out.flush()
            dynamodb = boto3.client(
                "dynamodb", endpoint_url=info["dynamodb_endpoint"], region_name=info["region"]
            )
            listings, reviews = seed(DirectWriter(dynamodb, info["table_name"]), out=out, limit=limit)
        if listings.bad or reviews.bad:
            bad = listings.bad + reviews.bad
            out.write(f"demo: {len(bad)} fixture rows were bad: {bad}\n")
        out.write(
            f"demo: wrote {listings.written} listings and {reviews.written} reviews "
            f"({listings.existing + reviews.existing} already there) in {time.monotonic() - seeding:.1f} s\n"
        )
        out.write("demo: waiting for the projection to catch up...\n")
        out.flush()
        expected = {
            "listings": listings.written + listings.existing,
            "reviews": reviews.written + reviews.existing,
        }
        caught_up = wait_for_projection(info["search_endpoint"], expected)
        out.write(
            f"demo: OpenSearch holds every seeded item {caught_up * 1000:.0f} ms after the last write\n"
        )
        example_searches(reader, out)
        lags = measure_lag(writer, reader)
        out.write(
            f"\ndemo: projection lag (write answered -> found by searchListings), {len(lags)} probes: "
            f"p50 {statistics.median(lags):.0f} ms, max {max(lags):.0f} ms\n"
        )
        if build is None:
            out.write("demo: done (--once); stopping the stack\n")
            return 0
        server = PageServer(build.wait())
        server.set_config(page_config(stack.stack_file, DEMO_USERS))
        first, second = DEMO_USERS
        page_up = time.monotonic() - started
        out.write(
            f"\nThe stack and the web page serve until Ctrl-C (page up {page_up:.1f} s after the start):\n"
            f"  web page  {server.url}\n"
            f"  sign in   as {first} (no password: local tokens); sign in as {second} in a second window,\n"
            "            and each sees the other's new listings and edits arrive live\n"
            f"  trust     the endpoint is https with a CA made for this stack, {info['ca_file']}: import it, "
            "or open the page with\n"
            f"            {chromium_command(server.url, info['tls_spki_sha256'])}\n"
            f"  GraphQL   {info['graphql_url']}\n"
            f"  API key   {info['auth']['api_key']}\n"
            f"  details   {stack.stack_file}\n"
        )
        out.flush()
        code = stack.supervise()
        out.write("demo: stopped\n")
        return code
    finally:
        if server is not None:
            server.stop()
        if build is not None:
            build.stop()
        stack.stop()
