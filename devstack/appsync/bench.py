"""Latency of the local AppSync endpoint: `python -m devstack.appsync.bench [--requests N]`.

Starts its own moto, osmem and endpoint on free ports, creates N listings through the API (IAM), projects
them with the real projector, then times N getListing and N searchListings calls, and the bare Node worker
round trip. Prints one line per figure; every loop is bounded by N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devstack.appsync.app import RESOLVERS_DIR_DEFAULT, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig
from devstack.servers import start_moto, start_osmem
from stackclient.graphql import GraphQLClient
from stackclient.stack import LOCAL_AWS_ENV

CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id } }"
GET = "query($id: ID!) { getListing(id: $id) { id title version reviews { items { id } } } }"
SEARCH = (
    "query($q: String, $f: ListingFilter) { searchListings(query: $q, filter: $f, limit: 20) "
    "{ total nextToken items { id title price } facets { categories { key count } } } }"
)


def _timed(count: int, call: Callable[[int], Any]) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    rate = 1000 * len(samples) / sum(samples)
    p50 = statistics.median(samples)
    print(f"{name:<28} n={len(samples):<5} p50={p50:7.2f} ms  p95={p95:7.2f} ms  {rate:7.1f}/s")


def run(requests: int) -> None:
    import boto3

    from devstack.checkpoint import CheckpointStore
    from devstack.definitions import EsmSettings
    from devstack.poller import StreamPoller
    from devstack.resources import create_resources
    from devstack.stack import projector_env
    from projector import handler as projector_handler
    from projector.indices import ensure_indices
    from projector.transport import Transport

    os.environ.update(LOCAL_AWS_ENV)
    moto, osmem = start_moto(), start_osmem()
    try:
        resources = create_resources(moto.url, table_name="bench")
        os.environ.update(projector_env(osmem.url, moto.url, resources.dead_letter_queue_url))
        ensure_indices(Transport(osmem.url, "none", "us-east-1"))
        auth = AuthConfig(token_secret="b" * 32, iam_credentials={"testing": "testing"})
        endpoint = start_endpoint(EndpointConfig(moto.url, osmem.url, "bench", auth))
        try:
            client = GraphQLClient(endpoint.url, auth="iam")
            ids: list[str] = []

            def create(n: int) -> None:
                spec = {
                    "title": f"bench flat {n}",
                    "category": "APARTMENT",
                    "price": n % 2000,
                    "currency": "EUR",
                    "location": {"lat": 52 + n % 100 / 100, "lon": 13},
                    "city": "Berlin",
                    "owner": "bench",
                }
                ids.append(client.execute(CREATE, {"input": spec})["createListing"]["id"])

            _report("createListing (pipeline)", _timed(requests, create))
            _report(
                "getListing (unit, GetItem + Listing.reviews Query)",
                _timed(requests, lambda n: client.execute(GET, {"id": ids[n]})),
            )
            with tempfile.TemporaryDirectory() as scratch:
                stream_arn = boto3.client("dynamodb", endpoint_url=moto.url).describe_table(TableName="bench")
                poller = StreamPoller(
                    boto3.client("dynamodbstreams", endpoint_url=moto.url),
                    stream_arn["Table"]["LatestStreamArn"],
                    projector_handler.lambda_handler,
                    EsmSettings.from_definition(),
                    CheckpointStore(Path(scratch) / "checkpoint.json"),
                    lambda message: None,
                )
                poller.drain()
            variables = {"q": "flat", "f": {"minPrice": 100}}
            _report(
                "searchListings (text+facets)", _timed(requests, lambda n: client.execute(SEARCH, variables))
            )
            worker_file = RESOLVERS_DIR_DEFAULT / "pipeline.js"
            _report(
                "Node worker round trip",
                _timed(
                    requests, lambda n: endpoint.worker.call(worker_file, "request", {"arguments": {}}, None)
                ),
            )
        finally:
            endpoint.close()
    finally:
        moto.stop()
        osmem.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.appsync.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-n", "--requests", type=int, default=200, help="calls per figure (default 200)")
    run(parser.parse_args().requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
