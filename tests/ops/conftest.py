"""A fresh table, queues and indices per test (unique names, index prefix) on the session's servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opshelpers import OpsEnv
from support.tables import create_table

from devstack.servers import ChildServer
from ops.writer import transport_for
from projector import handler
from projector.indices import ensure_indices
from stackclient.stack import Stack, dynamodb_client, opensearch_client, sqs_client


@pytest.fixture
def ops_env(
    moto_server: ChildServer, osmem: ChildServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[OpsEnv]:
    """Parametrize indirectly with index settings to replace the default `{"index.gc_deletes": "0s"}`."""
    name = f"ops-{uuid.uuid4().hex[:8]}"
    stack = Stack(
        region="us-east-1",
        table_name=name,
        search_endpoint=osmem.url,
        dead_letter_queue_url="pending",
        dynamodb_endpoint=moto_server.url,
        sqs_endpoint=moto_server.url,
        search_auth="none",
        source="test",
    )
    dynamodb = dynamodb_client(stack)
    stream_arn = create_table(dynamodb, name)
    sqs = sqs_client(stack)
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    on_failure = sqs.create_queue(QueueName=f"{name}-on-failure")["QueueUrl"]
    stack = Stack(**{**stack.__dict__, "dead_letter_queue_url": dlq, "on_failure_queue_url": on_failure})
    prefix = f"{name}-"
    # gc_deletes 0: a document deleted by hand (drift injection) may be written again at a lower version
    # at once, as on a real cluster 60 s later. The projector never deletes (tombstones are documents).
    settings = getattr(request, "param", {"index.gc_deletes": "0s"})
    ensure_indices(transport_for(osmem.url, "none", "us-east-1"), prefix, settings=settings or None)
    stream_arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    (tmp_path / "stack.json").write_text(
        json.dumps(
            {
                "region": stack.region,
                "table_name": name,
                "search_endpoint": osmem.url,
                "dead_letter_queue_url": dlq,
                "on_failure_queue_url": on_failure,
                "dynamodb_endpoint": moto_server.url,
                "sqs_endpoint": moto_server.url,
                "graphql_url": None,
                "auth": {},
            }
        )
    )
    env = OpsEnv(stack, prefix, stream_arn, dynamodb, sqs, opensearch_client(stack), tmp_path)
    yield env
    env.stop_projector()
    handler.reset()
    for index in env.search.indices.get(index=f"{prefix}*"):
        env.search.indices.delete(index=index)
