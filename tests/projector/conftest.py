"""Fixtures for the projector tests: an isolated table, queue and indices per test on the shared servers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from projector_testkit import Env, Scripted, ScriptedServer, Search, Table, next_id
from support.projector_env import configure_projector, projector_environment

from devstack.servers import ChildServer
from projector import handler
from projector.indices import ensure_indices
from projector.stream import BatchResult, StreamProjector
from projector.transport import Transport


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set projector environment variables and drop the handler's cached runtime."""

    def apply(**variables: str) -> None:
        configure_projector(monkeypatch, **variables)

    yield apply
    handler.reset()


@pytest.fixture
def env(moto_server: ChildServer, osmem: ChildServer, configure: Callable[..., None]) -> Env:
    prefix = f"p{next_id()}-{uuid.uuid4().hex[:6]}-"
    ensure_indices(Transport(osmem.url), prefix, settings={"index.gc_deletes": "0s"})
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    queue_url = sqs.create_queue(QueueName=f"dlq-{prefix.rstrip('-')}")["QueueUrl"]
    configure(**projector_environment(osmem.url, queue_url, prefix))
    return Env(
        Table(moto_server.url), Search(osmem.url, prefix), queue_url, sqs, prefix, osmem.url, moto_server.url
    )


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> list[BatchResult]:
    """Every result the handler's projector returns, in order (the handler itself keeps none)."""
    seen: list[BatchResult] = []
    project = StreamProjector.project

    def recording(self: StreamProjector, records: Any, context: Any = None) -> BatchResult:
        result = project(self, records, context)
        seen.append(result)
        return result

    monkeypatch.setattr(StreamProjector, "project", recording)
    return seen


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    servers: list[ScriptedServer] = []

    def make(replies: list[bytes | None]) -> ScriptedServer:
        server = ScriptedServer(replies)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
