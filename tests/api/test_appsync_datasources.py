"""The local data sources against the real local servers: request translation, typed values, errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devstack.appsync.datasources.dynamodb import DynamoDBDataSource
from devstack.appsync.datasources.opensearch import OpenSearchDataSource
from devstack.appsync.errors import AppSyncError
from devstack.appsync.manifest import ManifestError, load_manifest
from devstack.resources import create_resources
from devstack.servers import ChildServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table(moto_server: ChildServer) -> str:
    name = f"ds-{uuid.uuid4().hex[:8]}"
    create_resources(moto_server.url, table_name=name)
    return name


@pytest.fixture(scope="module")
def commands(moto_server: ChildServer, table: str) -> DynamoDBDataSource:
    return DynamoDBDataSource(boto3.client("dynamodb", endpoint_url=moto_server.url), table)


def key(pk: str) -> dict[str, object]:
    return {"pk": {"S": pk}, "sk": {"S": "X"}}


def test_typed_values_round_trip_as_appsync_plain_json(commands: DynamoDBDataSource) -> None:
    values = {
        "s": {"S": "text"},
        "n_int": {"N": 1767225600000000},  # AppSync's JSON-number form
        "n_str": {"N": "12.5"},
        "b": {"BOOL": False},
        "nul": {"NULL": None},
        "l": {"L": [{"S": "a"}, {"N": 1}]},
        "m": {"M": {"lat": {"N": 52.5}, "lon": {"N": -13}}},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": [1, 2.5]},
        "bin": {"B": "aGk="},
    }
    put = commands.invoke({"operation": "PutItem", "key": key("typed"), "attributeValues": values})
    assert put.error is None
    got = commands.invoke({"operation": "GetItem", "key": key("typed"), "consistentRead": True}).result
    assert got["n_int"] == 1767225600000000 and isinstance(got["n_int"], int)
    assert got["n_str"] == 12.5 and got["m"] == {"lat": 52.5, "lon": -13}
    assert got["nul"] is None and got["b"] is False and got["l"] == ["a", 1]
    assert sorted(got["ss"]) == ["x", "y"] and sorted(got["ns"]) == [1, 2.5] and got["bin"] == "aGk="
    assert put.result == got


def test_conditions_updates_deletes_and_their_error_types(commands: DynamoDBDataSource) -> None:
    item = {
        "operation": "PutItem",
        "key": key("cond"),
        "attributeValues": {"version": {"N": 1}, "t": {"S": "a"}},
    }
    commands.invoke(item)
    guarded = {**item, "condition": {"expression": "attribute_not_exists(pk)"}}
    assert commands.invoke(guarded).result["t"] == "a", (
        "same item already stored: AppSync counts it a success"
    )
    changed = {**guarded, "attributeValues": {"version": {"N": 2}, "t": {"S": "b"}}}
    failed = commands.invoke(changed)
    assert failed.error == {
        "type": "DynamoDB:ConditionalCheckFailedException",
        "message": "The conditional request failed",
    }
    ignoring = {
        **changed,
        "condition": {"expression": "attribute_not_exists(pk)", "equalsIgnore": ["version", "t"]},
    }
    assert commands.invoke(ignoring).error is None

    update = commands.invoke(
        {
            "operation": "UpdateItem",
            "key": key("cond"),
            "update": {
                "expression": "SET #t = :t",
                "expressionNames": {"#t": "t"},
                "expressionValues": {":t": {"S": "c"}},
            },
            "condition": {"expression": "version = :v", "expressionValues": {":v": {"N": 1}}},
        }
    )
    assert update.result["t"] == "c"
    deleted = commands.invoke({"operation": "DeleteItem", "key": key("cond")})
    assert deleted.result["t"] == "c", "DeleteItem returns the deleted item"
    assert commands.invoke({"operation": "GetItem", "key": key("cond")}).result is None


def test_transactions_report_cancellation_reasons_with_the_stored_item(
    commands: DynamoDBDataSource, table: str
) -> None:
    commands.invoke({"operation": "PutItem", "key": key("tx"), "attributeValues": {"version": {"N": 7}}})
    check = {"expression": "attribute_not_exists(pk)"}
    put_back = {**check, "returnValuesOnConditionCheckFailure": True}
    answer = commands.invoke(
        {
            "operation": "TransactWriteItems",
            "transactItems": [
                {"table": table, "operation": "ConditionCheck", "key": key("tx-missing"), "condition": check},
                {
                    "table": table,
                    "operation": "PutItem",
                    "key": key("tx"),
                    "attributeValues": {},
                    "condition": put_back,
                },
            ],
        }
    )
    assert answer.error is not None and answer.error["type"] == "DynamoDB:TransactionCanceledException"
    reasons = answer.result["cancellationReasons"]
    assert reasons[0]["type"] == "None"
    assert reasons[1]["type"] == "ConditionalCheckFailed"
    assert reasons[1]["item"] == {"pk": "tx", "sk": "X", "version": 7}


def test_query_pages_with_next_tokens(commands: DynamoDBDataSource) -> None:
    for n in range(5):
        commands.invoke({"operation": "PutItem", "key": {"pk": {"S": "q"}, "sk": {"S": f"R#{n}"}}})
    request = {
        "operation": "Query",
        "query": {"expression": "pk = :pk", "expressionValues": {":pk": {"S": "q"}}},
        "limit": 2,
        "consistentRead": True,
    }
    seen, token = [], None
    for _ in range(5):
        page = commands.invoke({**request, "nextToken": token} if token else request).result
        seen += [i["sk"] for i in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert seen == [f"R#{n}" for n in range(5)]


def test_bad_requests_fail_loudly_and_read_only_sources_refuse_writes(
    moto_server: ChildServer, table: str, commands: DynamoDBDataSource
) -> None:
    with pytest.raises(AppSyncError, match="not supported") as unsupported:
        commands.invoke({"operation": "BatchGetItem", "tables": {}})
    assert unsupported.value.error_type == "MappingTemplate"
    with pytest.raises(AppSyncError, match="unknown fields"):
        commands.invoke({"operation": "GetItem", "key": key("x"), "consistenRead": True})
    with pytest.raises(AppSyncError, match="typed value"):
        commands.invoke({"operation": "GetItem", "key": {"pk": "plain"}})
    queries = DynamoDBDataSource(
        boto3.client("dynamodb", endpoint_url=moto_server.url), table, read_only=True
    )
    refused = queries.invoke({"operation": "PutItem", "key": key("ro")})
    assert refused.error is not None and refused.error["type"] == "DynamoDB:AccessDeniedException"
    assert commands.invoke({"operation": "GetItem", "key": key("ro")}).result is None


@pytest.fixture(scope="module")
def search(osmem: ChildServer) -> Iterator[OpenSearchDataSource]:
    requests.put(f"{osmem.url}/ds-docs-v1", json={"aliases": {"ds-read": {}}}, timeout=10)
    requests.put(f"{osmem.url}/ds-docs-v1/_doc/1?refresh=true", json={"id": "1"}, timeout=10)
    yield OpenSearchDataSource(osmem.url, ["ds-read"])  # a private alias on the shared osmem
    requests.delete(f"{osmem.url}/ds-docs-v1", timeout=10)


def test_opensearch_reads_the_read_alias_and_nothing_else(
    search: OpenSearchDataSource, osmem: ChildServer
) -> None:
    found = search.invoke({"operation": "GET", "path": "/ds-read/_search", "params": {"body": {"size": 5}}})
    assert found.error is None and found.result["hits"]["total"]["value"] == 1
    for operation, path in (
        ("DELETE", "/ds-docs-v1"),
        ("PUT", "/ds-read/_doc/2"),
        ("GET", "/ds-docs-v1/_search"),
    ):
        refused = search.invoke({"operation": operation, "path": path, "params": {"body": {}}})
        assert refused.error is not None and refused.error["type"] == "OpenSearch:403", path
    assert requests.get(f"{osmem.url}/ds-docs-v1/_count", timeout=10).json()["count"] == 1
    bad = search.invoke(
        {"operation": "POST", "path": "/ds-read/_search", "params": {"body": {"query": {"nope": {}}}}}
    )
    assert bad.error is not None and bad.error["type"] == "OpenSearch:400"
    assert isinstance(bad.result, dict) and "error" in bad.result


def test_the_manifest_is_checked_before_anything_runs(tmp_path: Path) -> None:
    manifest = json.loads((REPO / "resolvers" / "manifest.json").read_text())
    assert len(load_manifest(REPO / "resolvers").resolvers) == len(manifest["resolvers"])

    def broken(change: dict[str, object], message: str) -> None:
        (tmp_path / "manifest.json").write_text(json.dumps({**manifest, **change}))
        for path in ("pipeline.js", "Query.getListing.js"):
            (tmp_path / path).write_text("")
        with pytest.raises(ManifestError, match=message):
            load_manifest(tmp_path)

    broken({}, "does not exist")  # functions/*.js are missing in tmp_path
    unit = {"type": "Query", "field": "getListing", "kind": "UNIT", "file": "Query.getListing.js"}
    broken({"functions": {}, "resolvers": [{**unit, "data_source": "nowhere"}]}, "does not declare")
    broken(
        {"functions": {}, "resolvers": [{**unit, "kind": "BATCH", "data_source": "queries"}]},
        "UNIT or PIPELINE",
    )
    pipeline = {
        "type": "Mutation",
        "field": "x",
        "kind": "PIPELINE",
        "file": "pipeline.js",
        "functions": ["ghost"],
    }
    broken({"functions": {}, "resolvers": [pipeline]}, "undeclared functions")


def test_one_item_transactions_answer_exactly_as_moto_transactions_do(
    commands: DynamoDBDataSource, moto_server: ChildServer, table: str
) -> None:
    """The data source runs a one-item transaction as one conditional write (moto's transactions copy the
    table); its answers must be indistinguishable from a real TransactWriteItems."""
    commands.invoke({"operation": "PutItem", "key": key("one"), "attributeValues": {"version": {"N": 3}}})
    fails = {"expression": "attribute_not_exists(pk)", "returnValuesOnConditionCheckFailure": True}
    transaction: dict[str, Any] = {
        "operation": "TransactWriteItems",
        "transactItems": [{"table": table, "operation": "PutItem", "key": key("one"), "condition": fails}],
    }
    local = commands.invoke(transaction)

    client = boto3.client("dynamodb", endpoint_url=moto_server.url)
    action = {"Put": {"TableName": table, "Item": {"pk": {"S": "one"}, "sk": {"S": "X"}},
                      "ConditionExpression": "attribute_not_exists(pk)",
                      "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}  # fmt: skip
    with pytest.raises(client.exceptions.TransactionCanceledException) as real:
        client.transact_write_items(TransactItems=[action])
    expected_reasons = [DynamoDBDataSource._reason(r) for r in real.value.response["CancellationReasons"]]
    assert local.error == {
        "type": "DynamoDB:TransactionCanceledException",
        "message": real.value.response["Error"]["Message"],
    }
    assert local.result == {"keys": None, "cancellationReasons": expected_reasons}
    assert expected_reasons[0]["item"]["version"] == 3

    silent = {"expression": "attribute_not_exists(pk)"}
    no_item = commands.invoke(
        {**transaction, "transactItems": [{**transaction["transactItems"][0], "condition": silent}]}
    )
    assert "item" not in no_item.result["cancellationReasons"][0]

    update = {
        "expression": "SET #v = :v",
        "expressionNames": {"#v": "version"},
        "expressionValues": {":v": {"N": 4}},
    }
    guard = {"expression": "version = :e", "expressionValues": {":e": {"N": 3}}}
    done = commands.invoke(
        {"operation": "TransactWriteItems",
         "transactItems": [{"table": table, "operation": "UpdateItem", "key": key("one"), "update": update,
                            "condition": guard}]}
    )  # fmt: skip
    assert done.error is None and done.result == {
        "keys": [{"pk": "one", "sk": "X"}],
        "cancellationReasons": None,
    }
    gone = commands.invoke(
        {
            "operation": "TransactWriteItems",
            "transactItems": [{"table": table, "operation": "DeleteItem", "key": key("one")}],
        }
    )
    assert gone.error is None and commands.invoke({"operation": "GetItem", "key": key("one")}).result is None


def test_a_write_moto_received_is_never_sent_twice() -> None:
    """A retried (or abandoned) transaction would run twice in moto, and moto puts back a copy of the
    table when one is cancelled: the endpoint's DynamoDB client sends each request once and waits."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from devstack.appsync.app import EndpointConfig, _data_sources
    from devstack.appsync.auth import AuthConfig

    seen: list[str] = []

    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # a transient 500, which botocore would normally retry
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["X-Amz-Target"])
            body = b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "boom"}'
            self.send_response(500)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        config = EndpointConfig(url, url, "t", AuthConfig(token_secret="x" * 32))
        commands = _data_sources(config, {"commands": "AMAZON_DYNAMODB"})["commands"]
        item = {"table": "t", "operation": "PutItem", "key": key("once")}
        answer = commands.invoke({"operation": "TransactWriteItems", "transactItems": [item, item]})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.error is not None and answer.error["type"] == "DynamoDB:InternalServerError", answer
    assert seen == ["DynamoDB_20120810.TransactWriteItems"], seen
