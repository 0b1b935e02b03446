"""Benchmark the ops commands on local servers: backfill throughput by scan segments, reconcile time.

    python scripts/bench_ops.py [--items 5000] [--segments 1 2 4]

Starts its own moto server and osmem on free ports, writes `--items` listings straight into the table,
then for each segment count backfills a fresh index and prints items per second; finally times a
reconcile of the full table. Locally moto's Scan bounds the figures (about 8 ms per item on a loaded
2-core machine, whatever the page size; osmem indexes the same items in a fifth of that time); against
DynamoDB and Amazon OpenSearch Service the bulk writes and the `--rate` limit are the usual bounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from typing import Any

from devstack.definitions import create_table_request
from devstack.servers import start_moto, start_osmem
from ops.backfill import backfill
from ops.reconcile import reconcile
from ops.writer import ProjectionWriter, transport_for
from projector.entities import LISTING
from projector.indices import ensure_indices
from stackclient.items import listing_item, new_version
from stackclient.stack import LOCAL_AWS_ENV, Stack, dynamodb_client, opensearch_client


def _listing(n: int, version: int) -> dict[str, Any]:
    """Listing `n` of the table, built as the seed and the tests build theirs."""
    listing = {
        "id": f"bench-{n:07d}", "title": f"Flat {n}", "description": "Bright and quiet.",
        "category": "APARTMENT", "tags": ["lift"], "price": 500 + n % 900, "currency": "EUR",
        "location": {"lat": Decimal("38.72"), "lon": Decimal("-9.14")}, "city": "Lisbon", "owner": "bench",
        "status": "ACTIVE", "createdAt": "2026-11-29T10:00:00.000Z",
    }  # fmt: skip
    return listing_item(listing, version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_ops.py", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--items", type=int, default=5000, help="listings in the table (default 5000)")
    parser.add_argument("-s", "--segments", type=int, nargs="+", default=[1, 2, 4], help="segment counts")
    args = parser.parse_args(argv)
    os.environ.update(LOCAL_AWS_ENV)
    moto, osmem = start_moto(), start_osmem()
    try:
        stack = Stack(
            region="us-east-1", table_name="bench", search_endpoint=osmem.url, dead_letter_queue_url="unused",
            dynamodb_endpoint=moto.url, sqs_endpoint=moto.url, search_auth="none",
        )  # fmt: skip
        dynamodb = dynamodb_client(stack)
        dynamodb.create_table(**create_table_request("bench"))
        version = new_version()
        started = time.perf_counter()
        for start in range(0, args.items, 25):
            requests = [
                {"PutRequest": {"Item": _listing(n, version)}}
                for n in range(start, min(start + 25, args.items))
            ]
            dynamodb.batch_write_item(RequestItems={"bench": requests})
        print(f"table: {args.items} listings written in {time.perf_counter() - started:.1f} s")
        transport = transport_for(osmem.url, "none", "us-east-1", connections=16)
        for segments in args.segments:
            prefix = f"seg{segments}-"
            ensure_indices(transport, prefix)
            writer = ProjectionWriter(transport, {LISTING.name: [LISTING.index(prefix)]})
            started = time.perf_counter()
            result = backfill(dynamodb, "bench", writer, segments=segments)
            elapsed = time.perf_counter() - started
            print(
                f"backfill: {segments} segment(s): {result.tally.written} written in {elapsed:.1f} s "
                f"= {result.scanned / elapsed:.0f} items/s"
            )
        search = opensearch_client(stack)
        started = time.perf_counter()
        report = reconcile(dynamodb, "bench", search, prefix=f"seg{args.segments[-1]}-", settle_seconds=0)
        print(f"reconcile: {args.items} items vs the index in {time.perf_counter() - started:.1f} s, "
              f"drift {report.drift_count}")  # fmt: skip
    finally:
        moto.stop()
        osmem.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
