"""Helpers for the ops tests: `OpsEnv` writes items the way the resolvers do (docs/design.md §3) and
runs the real projector on the table's stream in-process (devstack's StreamPoller + projector.handler).
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from devstack.checkpoint import CheckpointStore
from devstack.definitions import EsmSettings
from devstack.poller import StreamPoller, sqs_sender
from ops.stack import Stack, streams_client
from ops.writer import ProjectionWriter, transport_for
from projector import handler
from projector.entities import ENTITIES

REPO = Path(__file__).resolve().parents[2]
CITIES = ("Lisbon", "Porto", "Faro", "Braga")


def listing_item(listing_id: str, version: int, title: str = "", **extra: Any) -> dict[str, Any]:
    """A Listing in DynamoDB wire form, as createListing writes it."""
    item = {
        "pk": {"S": f"LISTING#{listing_id}"},
        "sk": {"S": "LISTING"},
        "type": {"S": "Listing"},
        "id": {"S": listing_id},
        "title": {"S": title or f"Flat {listing_id}"},
        "description": {"S": "Bright, quiet, near the river."},
        "category": {"S": "APARTMENT"},
        "tags": {"L": [{"S": "balcony"}, {"S": "lift"}]},
        "price": {"N": str(random.randint(300, 3000))},
        "currency": {"S": "EUR"},
        "location": {"M": {"lat": {"N": "38.72"}, "lon": {"N": "-9.14"}}},
        "city": {"S": random.choice(CITIES)},
        "owner": {"S": "owner-1"},
        "status": {"S": "ACTIVE"},
        "createdAt": {"S": "2026-11-29T10:00:00.000Z"},
        "updatedAt": {"S": "2026-11-29T10:00:00.000Z"},
        "gsi1pk": {"S": "OWNER#owner-1"},
        "gsi1sk": {"S": f"LISTING#2026-11-29T10:00:00.000Z#{listing_id}"},
        "version": {"N": str(version)},
    }
    item.update(extra)
    return item


def review_item(listing_id: str, review_id: str, version: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"LISTING#{listing_id}"},
        "sk": {"S": f"REVIEW#{review_id}"},
        "type": {"S": "Review"},
        "id": {"S": review_id},
        "listingId": {"S": listing_id},
        "rating": {"N": "4"},
        "text": {"S": "Lovely place."},
        "author": {"S": "guest-1"},
        "createdAt": {"S": "2026-11-29T11:00:00.000Z"},
        "version": {"N": str(version)},
    }


def new_version(expected: int | None = None) -> int:
    """The resolvers' version rule: create = now_ms * 1000; update = max(e + 1, now_ms * 1000)."""
    now = int(time.time() * 1000) * 1000
    return now if expected is None else max(expected + 1, now)


@dataclass
class OpsEnv:
    stack: Stack
    prefix: str
    stream_arn: str
    dynamodb: Any
    sqs: Any
    search: OpenSearch
    tmp: Path
    _pollers: list[tuple[StreamPoller, threading.Thread]] = field(default_factory=list)

    def writer(
        self, targets: dict[str, list[str]] | None = None, write_seconds: float = 30.0
    ) -> ProjectionWriter:
        if targets is None:
            targets = {e.name: [e.index(self.prefix)] for e in ENTITIES}
        transport = transport_for(self.stack.search_endpoint, "none", self.stack.region)
        return ProjectionWriter(transport, targets, write_seconds=write_seconds)

    def index(self, base: str = "listings", version: int = 1) -> str:
        return f"{self.prefix}{base}-v{version}"

    def put(self, item: dict[str, Any]) -> None:
        self.dynamodb.put_item(TableName=self.stack.table_name, Item=item)

    def put_listing(self, listing_id: str, expected: int | None = None, **extra: Any) -> int:
        version = new_version(expected)
        self.put(listing_item(listing_id, version, **extra))
        return version

    def delete_listing(self, listing_id: str) -> None:
        key = {"pk": {"S": f"LISTING#{listing_id}"}, "sk": {"S": "LISTING"}}
        self.dynamodb.delete_item(TableName=self.stack.table_name, Key=key)

    def table_versions(self, entity: str = "Listing") -> dict[str, int]:
        found: dict[str, int] = {}
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.stack.table_name):
            for item in page["Items"]:
                if item.get("type", {}).get("S") == entity and "N" in item.get("version", {}):
                    found[item["id"]["S"]] = int(item["version"]["N"])
        return found

    def live_versions(self, index: str) -> dict[str, int]:
        """id → version of the documents a search through `index` sees (tombstones excluded)."""
        self.search.indices.refresh(index=index)
        hits = self.search.search(
            index=index,
            body={
                "size": 10000,
                "version": True,
                "query": {"bool": {"must_not": {"term": {"tombstone": True}}}},
            },
        )["hits"]["hits"]
        return {hit["_id"]: int(hit["_version"]) for hit in hits}

    # -- the real projector on the stream, in-process -------------------------------------------------

    def start_projector(
        self,
        monkeypatch: pytest.MonkeyPatch,
        alias_ttl: float = 0.5,
        search_endpoint: str | None = None,
        settings: EsmSettings | None = None,
        function_timeout: float = 60.0,
    ) -> StreamPoller:
        """Run devstack's poller with projector.handler on this table's stream (a thread)."""
        monkeypatch.setenv("OPENSEARCH_ENDPOINT", search_endpoint or self.stack.search_endpoint)
        monkeypatch.setenv("OPENSEARCH_AUTH", "none")
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", self.stack.dead_letter_queue_url)
        monkeypatch.setenv("INDEX_PREFIX", self.prefix)
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "appsync-cqrs-tests")
        monkeypatch.setenv("LOG_LEVEL", "WARNING")
        handler.reset()
        # The alias cache is 30 s in Lambda; a short one keeps reindex tests quick (same code path).
        handler.runtime().projector.aliases.ttl_seconds = alias_ttl
        poller = StreamPoller(
            streams_client(self.stack),
            self.stream_arn,
            handler.lambda_handler,
            settings or EsmSettings.from_definition(),
            CheckpointStore(self.tmp / "poller-checkpoint.json"),
            sqs_sender(self.sqs, self.stack.on_failure_queue_url or ""),
            poll_interval_s=0.05,
            retry_delay_s=0.05,
            function_timeout_s=function_timeout,
        )
        thread = threading.Thread(target=poller.run, name="poller", daemon=True)
        thread.start()
        self._pollers.append((poller, thread))
        return poller

    def stop_projector(self) -> None:
        for poller, thread in self._pollers:
            poller.stop_event.set()
            thread.join(30)
        self._pollers.clear()

    def drain_projector(self, timeout: float = 60.0) -> None:
        """Stop the poller thread, then poll until the stream is quiet."""
        pollers = [poller for poller, _ in self._pollers]
        self.stop_projector()
        for poller in pollers[-1:]:
            poller.stop_event.clear()
            poller.drain(idle_passes=3, timeout_s=timeout)

    def queue_depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def run_script(
    env: OpsEnv, script: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `scripts/<script>` against the test's stack as a user would."""
    command = [sys.executable, str(REPO / "scripts" / script), "-s", str(env.tmp / "stack.json")]
    return subprocess.run(
        [*command, "-p", env.prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
