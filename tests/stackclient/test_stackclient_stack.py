"""stackclient.stack finds a stack from stack.json or Terraform outputs and builds working clients."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devstack.servers import ChildServer
from stackclient.errors import StackConfigError, StackNotFoundError
from stackclient.stack import (
    SearchAuth,
    Stack,
    dynamodb_client,
    find_stack,
    infer_search_auth,
    load_stack_file,
    load_terraform_outputs,
    opensearch_client,
    sqs_client,
    streams_client,
)

REPO = Path(__file__).resolve().parents[2]


def _stack_values(moto: str = "http://127.0.0.1:1", osmem: str = "http://127.0.0.1:2") -> dict[str, object]:
    return {
        "graphql_url": "http://127.0.0.1:3/graphql",
        "region": "us-east-1",
        "auth": {"api_key": "k", "user_pool_id": "p", "user_pool_client_id": "c", "iam": True},
        "table_name": "listings",
        "search_endpoint": osmem + "/",
        "dead_letter_queue_url": f"{moto}/123456789012/dlq",
        "on_failure_queue_url": f"{moto}/123456789012/on-failure",
        "dynamodb_endpoint": moto,
        "sqs_endpoint": moto,
        "token_command": ["python", "-m", "devstack.appsync", "token"],
        "pids": {"moto": 1},
    }


def test_reads_a_local_stack_json(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(_stack_values()))
    stack = find_stack(stack_file=path)
    assert stack.table_name == "listings"
    assert stack.search_endpoint == "http://127.0.0.1:2"  # trailing slash dropped
    assert stack.search_auth == "none"
    assert stack.is_local
    assert stack.on_failure_queue_url == "http://127.0.0.1:1/123456789012/on-failure"
    assert stack.auth["api_key"] == "k"


def test_missing_stack_json_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(StackNotFoundError, match="make demo"):
        load_stack_file(tmp_path / "absent.json")


def test_missing_keys_are_named(tmp_path: Path) -> None:
    values = _stack_values()
    del values["table_name"], values["dead_letter_queue_url"]
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(values))
    with pytest.raises(StackConfigError, match="table_name, dead_letter_queue_url"):
        load_stack_file(path)


def test_bad_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text("{not json")
    with pytest.raises(StackConfigError, match="not valid JSON"):
        load_stack_file(path)


def test_file_and_terraform_dir_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(StackConfigError, match="not both"):
        find_stack(stack_file=tmp_path / "a.json", terraform_dir=tmp_path)


@pytest.mark.parametrize(
    ("endpoint", "auth"),
    [
        ("http://127.0.0.1:9200", "none"),
        ("https://search-x-abc.eu-west-1.es.amazonaws.com", "sigv4"),
        ("https://abc123.eu-west-1.aoss.amazonaws.com", "sigv4-aoss"),
    ],
)
def test_search_auth_follows_the_endpoint(endpoint: str, auth: str) -> None:
    assert infer_search_auth(endpoint) == auth


def test_search_endpoint_must_be_a_url() -> None:
    with pytest.raises(StackConfigError, match="not an http"):
        infer_search_auth("search-x.es.amazonaws.com")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_reads_terraform_outputs(tmp_path: Path) -> None:
    # A real root module with only outputs: applying it needs no provider and writes real local state.
    values = _stack_values(osmem="https://search-x.eu-west-1.es.amazonaws.com")
    for key in ("dynamodb_endpoint", "sqs_endpoint", "token_command", "pids"):
        del values[key]
    outputs = "\n".join(
        f"output {k!r} {{\n  value = jsondecode({json.dumps(json.dumps(v))})\n}}" for k, v in values.items()
    ).replace("'", '"')
    (tmp_path / "main.tf").write_text(outputs + "\n")
    subprocess.run(["terraform", "init", "-input=false"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(
        ["terraform", "apply", "-auto-approve", "-input=false"], cwd=tmp_path, check=True, capture_output=True
    )
    stack = load_terraform_outputs(tmp_path)
    assert stack.table_name == "listings"
    assert stack.auth["iam"] is True
    assert stack.search_auth == "sigv4"
    assert not stack.is_local


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_unapplied_terraform_dir_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(StackNotFoundError):
        load_terraform_outputs(tmp_path)


def test_clients_reach_the_local_servers(moto_server: ChildServer, osmem: ChildServer) -> None:
    stack = Stack(**{**_stack_fields(moto_server.url, osmem.url)})
    ddb = dynamodb_client(stack)
    ddb.create_table(
        TableName="ops-stack-smoke",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = ddb.describe_table(TableName="ops-stack-smoke")["Table"]["LatestStreamArn"]
    assert streams_client(stack).describe_stream(StreamArn=arn)["StreamDescription"]["StreamArn"] == arn
    url = sqs_client(stack).create_queue(QueueName="ops-stack-smoke")["QueueUrl"]
    assert url.endswith("/ops-stack-smoke")
    assert opensearch_client(stack).info()["version"]["distribution"] == "opensearch"


def _stack_fields(moto: str, osmem: str) -> dict[str, Any]:
    values = _stack_values(moto, osmem)
    return {f.name: values[f.name] for f in dataclasses.fields(Stack) if f.name in values} | {
        "search_endpoint": osmem,
        "search_auth": "none",
    }


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []  # noqa: RUF012  (class-level capture for one test)

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b'{"version": {"distribution": "opensearch", "number": "2.0.0"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    ("auth", "service"), [("sigv4", "/es/aws4_request"), ("sigv4-aoss", "/aoss/aws4_request")]
)
def test_deployed_search_requests_are_signed(recorder: str, auth: SearchAuth, service: str) -> None:
    stack = dataclasses.replace(Stack(**_stack_fields(recorder, recorder)), search_auth=auth)
    opensearch_client(stack).info()
    assert service in _Recorder.seen[-1]["Authorization"]
    assert _Recorder.seen[-1]["Authorization"].startswith("AWS4-HMAC-SHA256")


def test_local_search_requests_are_not_signed(recorder: str) -> None:
    opensearch_client(Stack(**_stack_fields(recorder, recorder))).info()
    assert "Authorization" not in _Recorder.seen[-1]


def test_a_local_stack_needs_no_aws_credentials(
    moto_server: ChildServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    stack = Stack(**_stack_fields(moto_server.url, moto_server.url))
    assert isinstance(dynamodb_client(stack).list_tables()["TableNames"], list)


def test_the_commands_report_a_missing_stack_plainly(tmp_path: Path) -> None:
    for script in ("backfill.py", "reindex.py", "reconcile.py", "redrive.py"):
        args = ["-e", "listings"] if script == "reindex.py" else []
        result = subprocess.run(
            [sys.executable, str(REPO / "scripts" / script), "-s", str(tmp_path / "none.json"), *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2, (script, result.stderr)
        assert result.stderr.startswith("StackNotFoundError: "), (script, result.stderr)
