"""The local stand-ins answer like the services they replace."""

from __future__ import annotations

import json
import urllib.request

import boto3

from devstack.servers import ChildServer


def test_moto_server_serves_dynamodb(moto_server: ChildServer) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server.url)
    client.create_table(
        TableName="servers-smoke",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "servers-smoke" in client.list_tables()["TableNames"]


def test_osmem_reports_an_opensearch_version(osmem: ChildServer) -> None:
    with urllib.request.urlopen(osmem.url) as response:
        info = json.load(response)
    assert info["version"]["distribution"] == "opensearch"
