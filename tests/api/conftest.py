"""A real local API for the end-to-end tests: moto (shared), a private osmem, the projector behind a
stream poller, and the local AppSync endpoint started through its process contract (design §8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from apikit import API_KEY, TOKEN_SECRET, Api

from devstack.appsync.tls import LocalTLS, create_local_tls
from devstack.checkpoint import CheckpointStore
from devstack.definitions import CascadeDefinition, EsmSettings
from devstack.event_filter import record_filter
from devstack.poller import StreamPoller
from devstack.resources import create_resources
from devstack.servers import ChildServer, free_port, start_osmem
from devstack.stack import projector_env
from stackclient.stack import LOCAL_AWS_ENV

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def api_osmem() -> Iterator[ChildServer]:
    """A private osmem, so no other suite's documents show up in these searches."""
    server = start_osmem()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api_tls(tmp_path_factory: pytest.TempPathFactory) -> LocalTLS:
    """The endpoint serves https and wss, as the local stack's does, from a CA of its own."""
    return create_local_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def endpoint_process(
    moto_server: ChildServer, api_osmem: ChildServer, api_tls: LocalTLS
) -> Iterator[tuple[str, str]]:
    table = f"api-e2e-{uuid.uuid4().hex[:8]}"
    create_resources(moto_server.url, table_name=table)
    argv = [
        sys.executable, "-m", "devstack.appsync", "serve",
        "--port", str(free_port()),
        "--dynamodb-endpoint", moto_server.url,
        "--opensearch-endpoint", api_osmem.url,
        "--table", table,
        "--api-key", API_KEY,
        "--token-secret", TOKEN_SECRET,
        "--tls-cert", str(api_tls.cert_file),
        "--tls-key", str(api_tls.key_file),
    ]  # fmt: skip
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, **LOCAL_AWS_ENV}
    )
    assert process.stdout is not None
    ready = process.stdout.readline()
    try:
        url = json.loads(ready)["url"]
    except (json.JSONDecodeError, KeyError):
        process.kill()
        raise RuntimeError(f"the endpoint did not print its ready line, got {ready!r}") from None
    yield url, table
    process.terminate()
    assert process.wait(10) == 0, "the endpoint should stop cleanly on SIGTERM"


@pytest.fixture(scope="session")
def api(
    moto_server: ChildServer, api_osmem: ChildServer, endpoint_process: tuple[str, str], api_tls: LocalTLS
) -> Iterator[Api]:
    from projector import cascade
    from projector import handler as projector_handler
    from projector.indices import ensure_indices
    from projector.transport import Transport

    url, table = endpoint_process
    cascade_mapping = CascadeDefinition.load()
    dlq = boto3.client("sqs", endpoint_url=moto_server.url).create_queue(QueueName=f"{table}-dlq")["QueueUrl"]
    ensure_indices(Transport(api_osmem.url, "none", "us-east-1"))
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with tempfile.TemporaryDirectory() as scratch:
        poller = StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=moto_server.url),
            stream_arn,
            projector_handler.lambda_handler,
            EsmSettings.from_definition(),
            CheckpointStore(Path(scratch) / "checkpoint.json"),
            lambda message: None,
        )
        api = Api(url, table, poller, dynamodb, projector_env(api_osmem.url, moto_server.url, dlq))
        api.cascade_poller = StreamPoller(
            boto3.client("dynamodbstreams", endpoint_url=moto_server.url),
            stream_arn,
            cascade.lambda_handler,
            cascade_mapping.settings,
            CheckpointStore(Path(scratch) / "cascade-checkpoint.json"),
            lambda message: None,
            record_filter=record_filter(cascade_mapping.filter_patterns),  # as deployed: listing REMOVEs only
        )
        api.session.verify = str(api_tls.ca_file)
        # Else REQUESTS_CA_BUNDLE, when set, overrides the session's `verify` (a requests quirk).
        api.session.trust_env = False
        api.ca_file = api_tls.ca_file
        yield api
