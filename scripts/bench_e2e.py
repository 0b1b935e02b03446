"""Freshness benchmark: how long after a GraphQL write does search reflect it?

    .venv/bin/python scripts/dev.py up --detach
    .venv/bin/python scripts/bench_e2e.py [--writes 240] [--via graphql|opensearch]

Against a running stack (`.dev/stack.json`, or `--stack-file`), it performs `--writes` mutations in a
fixed mix (per ten: five createListing, three updateListing, two deleteListing) one after another.
After each write is answered it polls search until the change shows (a create is found at its version,
an update shows its new version, a delete is gone) and records that lag. It prints the figures, and as
its last line one JSON object with `writes`, `lag_p50_ms`, `lag_p95_ms`, `lag_max_ms` and more.
Exit 1 if a write never shows within `--timeout` seconds, or the stack cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from devstack.stack import DEFAULT_STATE_DIR
from projector.names import index_family
from stackclient.errors import GraphQLClientError
from stackclient.graphql import GraphQLClient
from stackclient.stack import LOCAL_AWS_ENV, graphql_credentials, stack_from_mapping

MIX = "CCCCCUUUDD"  # per ten writes: creates, updates, deletes
LISTING = "id version"
CREATE = f"mutation C($input: CreateListingInput!) {{ createListing(input: $input) {{ {LISTING} }} }}"
UPDATE = f"mutation U($input: UpdateListingInput!) {{ updateListing(input: $input) {{ {LISTING} }} }}"
DELETE = f"mutation D($input: DeleteListingInput!) {{ deleteListing(input: $input) {{ {LISTING} }} }}"
FIND = "query F($q: String) { searchListings(query: $q, limit: 5) { items { id version } } }"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Searcher:
    """Where a listing stands in search: its version, or None when not found."""

    def __init__(self, stack: dict[str, Any], via: str) -> None:
        self.via = via
        self.endpoint = stack["search_endpoint"]
        self.session = requests.Session()
        self.client = GraphQLClient(
            stack["graphql_url"],
            auth="api_key",
            api_key=stack["auth"]["api_key"],
            ca_file=stack.get("ca_file"),
        )

    def version(self, listing_id: str, token: str) -> str | None:
        if self.via == "graphql":
            items = self.client.execute(FIND, {"q": token})["searchListings"]["items"]
            return next((item["version"] for item in items if item["id"] == listing_id), None)
        body: dict[str, Any] = {"query": {"ids": {"values": [listing_id]}}, "version": True}
        hits = self.session.post(
            f"{self.endpoint}/{index_family('Listing').read_alias}/_search", json=body, timeout=10
        ).json()["hits"]["hits"]
        return str(hits[0]["_version"]) if hits else None


def run(stack: dict[str, Any], writes: int, via: str, timeout_s: float, poll_s: float) -> dict[str, Any]:
    writer = GraphQLClient(
        stack["graphql_url"],
        region=stack["region"],
        auth="iam",
        ca_file=stack.get("ca_file"),
        credentials=graphql_credentials(stack_from_mapping(stack, "the stack under test")),
    )
    searcher = Searcher(stack, via)
    run_id = uuid.uuid4().hex[:8]
    live: list[tuple[str, str, str]] = []  # (id, version, search token) of listings this run created
    lags: dict[str, list[float]] = {"C": [], "U": [], "D": []}
    write_ms: list[float] = []
    for number in range(writes):
        kind = MIX[number % len(MIX)]
        if kind != "C" and not live:
            kind = "C"
        started = time.monotonic()
        if kind == "C":
            token = f"bench{run_id}n{number}"
            listing = {
                "title": f"Benchmark flat {token}",
                "category": "APARTMENT",
                "price": 1000 + number,
                "currency": "EUR",
                "location": {"lat": 52.5 + number / 10_000, "lon": 13.4},
                "city": "Berlin",
                "owner": "bench",
            }
            created = writer.execute(CREATE, {"input": listing})["createListing"]
            listing_id, expected = created["id"], created["version"]
            live.append((listing_id, expected, token))
        elif kind == "U":
            listing_id, version, token = live.pop(0)
            update = {"id": listing_id, "expectedVersion": version, "price": 2000 + number}
            expected = writer.execute(UPDATE, {"input": update})["updateListing"]["version"]
            live.append((listing_id, expected, token))
        else:
            listing_id, version, token = live.pop(0)
            writer.execute(DELETE, {"input": {"id": listing_id, "expectedVersion": version}})
            expected = None
        answered = time.monotonic()
        write_ms.append((answered - started) * 1000)
        while searcher.version(listing_id, token) != expected:
            if time.monotonic() - answered > timeout_s:
                raise TimeoutError(f"write {number} ({kind} {listing_id}) not in search after {timeout_s} s")
            time.sleep(poll_s)
        lags[kind].append((time.monotonic() - answered) * 1000)
        if (number + 1) % 50 == 0:
            print(f"  {number + 1}/{writes} writes", file=sys.stderr, flush=True)
    every = [lag for kind_lags in lags.values() for lag in kind_lags]
    return {
        "writes": writes,
        "creates": len(lags["C"]),
        "updates": len(lags["U"]),
        "deletes": len(lags["D"]),
        "via": via,
        "lag_p50_ms": round(percentile(every, 0.50), 1),
        "lag_p95_ms": round(percentile(every, 0.95), 1),
        "lag_max_ms": round(max(every), 1),
        "lag_mean_ms": round(sum(every) / len(every), 1),
        "lag_p50_ms_by_kind": {k: round(percentile(v, 0.5), 1) for k, v in lags.items() if v},
        "write_p50_ms": round(percentile(write_ms, 0.50), 1),
        "stack_poll_interval_s": stack.get("poll_interval_s"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_e2e.py", description="Measure write-to-search lag.")
    parser.add_argument(
        "-s", "--stack-file", type=Path, default=DEFAULT_STATE_DIR / "stack.json", help="stack.json"
    )
    parser.add_argument("-n", "--writes", type=int, default=240, help="GraphQL writes to perform (>= 10)")
    parser.add_argument(
        "-v", "--via", choices=("graphql", "opensearch"), default="graphql", help="how to search"
    )
    parser.add_argument("-t", "--timeout", type=float, default=30.0, help="seconds a write may take to show")
    parser.add_argument("-p", "--poll", type=float, default=0.005, help="seconds between search polls")
    args = parser.parse_args(argv)
    try:
        stack = json.loads(args.stack_file.read_text())
    except FileNotFoundError:
        print(
            f"StackNotFound: {args.stack_file} does not exist: `scripts/dev.py up --detach` first",
            file=sys.stderr,
        )
        return 1
    if stack.get("dynamodb_endpoint"):
        os.environ.update(LOCAL_AWS_ENV)  # a local stack: moto's fake credentials
    print(
        f"bench: {args.writes} writes against {stack['graphql_url']}, searching via {args.via}",
        file=sys.stderr,
    )
    try:
        figures = run(stack, args.writes, args.via, args.timeout, args.poll)
    except (GraphQLClientError, TimeoutError, requests.RequestException) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    f = figures
    print(
        f"lag (write answered -> visible in search), ms: p50 {f['lag_p50_ms']}, p95 {f['lag_p95_ms']}, "
        f"max {f['lag_max_ms']}, mean {f['lag_mean_ms']}; p50 by kind {f['lag_p50_ms_by_kind']}; "
        f"write p50 {f['write_p50_ms']} ms"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
