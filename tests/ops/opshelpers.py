"""Helpers for the ops tests: `OpsEnv` writes items the way the resolvers do (docs/design.md §3) and
runs the real projector on the table's stream in-process (devstack's StreamPoller + projector.handler).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch
from support.items import listing
from support.projector_env import configure_projector, projector_environment

from devstack.checkpoint import CheckpointStore
from devstack.definitions import EsmSettings
from devstack.poller import StreamPoller, sqs_sender
from ops.writer import ProjectionWriter, transport_for
from projector import handler
from projector.entities import ENTITIES
from stackclient.items import new_version
from stackclient.stack import Stack, streams_client

REPO = Path(__file__).resolve().parents[2]


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
        self.put(listing(listing_id, version, **extra))
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
        environment = projector_environment(
            search_endpoint or self.stack.search_endpoint,
            self.stack.dead_letter_queue_url,
            self.prefix,
            LOG_LEVEL="WARNING",  # the soak projects thousands of records: keep the captured output short
        )
        configure_projector(monkeypatch, **environment)
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
