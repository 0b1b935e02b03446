"""Resolver semantics of the local endpoint (unit and pipeline, stash, prev, earlyReturn, util.error,
appendError, crashes, missing utils, auth directives) on small fixture resolvers with NONE data sources."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.appsync.app import Endpoint, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig, LocalRole, issue_token

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pipeline"
SECRET = "runtime-test-token-secret-32-bytes-long"
KEY = {"x-api-key": "runtime-key"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    config = EndpointConfig(
        dynamodb_endpoint="http://127.0.0.1:9",  # never called: NONE data sources only
        opensearch_endpoint="http://127.0.0.1:9",
        table="fixture-table",
        auth=AuthConfig(
            token_secret=SECRET,
            api_key="runtime-key",
            iam_credentials={"AKIDLOCAL": "s3cret"},
            iam_roles={"AKIDLOCAL": LocalRole("fixture-backend", "whoami-session")},
        ),
        schema_dir=FIXTURES / "schema",
        resolvers_dir=FIXTURES / "resolvers",
    )
    running = start_endpoint(config)
    yield running
    running.close()


def query(endpoint: Endpoint, text: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
    response = requests.post(
        endpoint.url, json={"query": text, "variables": variables}, headers=headers or KEY
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_early_return_in_a_unit_request_skips_the_response(endpoint: Endpoint) -> None:
    assert query(endpoint, "{ early }") == {"data": {"early": "returned early"}}


def test_pipeline_passes_stash_and_prev_and_early_return_in_a_function(endpoint: Endpoint) -> None:
    # start=1 → addOne returns 2 → timesTen returns early with 20 → resolver response sees prev 20.
    assert query(endpoint, "{ pipeline }") == {"data": {"pipeline": "20:1:addOne"}}


def test_early_return_in_the_pipeline_request_skips_every_function(endpoint: Endpoint) -> None:
    assert query(endpoint, "{ beforeEarly }")["data"] == {
        "beforeEarly": "response saw: skipped the functions"
    }


def test_util_error_nulls_the_field_in_appsync_shape(endpoint: Endpoint) -> None:
    answer = query(endpoint, "{ failing early }")
    assert answer["data"] == {"failing": None, "early": "returned early"}
    [error] = answer["errors"]
    assert error == {
        "path": ["failing"],
        "data": {"partial": 2},
        "errorType": "CustomError",
        "errorInfo": {"step": "fails"},
        "locations": [{"line": 1, "column": 3, "sourceName": None}],
        "message": "failed after 2",
    }


def test_append_error_keeps_the_value(endpoint: Endpoint) -> None:
    answer = query(endpoint, "{ appended }")
    assert answer["data"] == {"appended": "value"}
    assert answer["errors"][0]["errorType"] == "Warning"
    assert answer["errors"][0]["errorInfo"] == {"hint": 1}
    assert answer["errors"][0]["path"] == ["appended"]


def test_resolver_crashes_and_missing_utils_fail_loudly(endpoint: Endpoint) -> None:
    crash = query(endpoint, "{ crashing }")["errors"][0]
    assert crash["errorType"] == "Code" and "crashing.js request" in crash["message"]
    missing = query(endpoint, "{ missingUtil }")["errors"][0]
    assert missing["errorType"] == "Code"
    assert "util.transform.toDynamoDBFilterExpression is not implemented" in missing["message"]


def test_directives_decide_who_may_resolve_a_field(endpoint: Endpoint) -> None:
    user = {"Authorization": issue_token("dana", SECRET)}
    assert query(endpoint, "{ whoami }")["data"]["whoami"] == "API Key Authorization/nobody/fixture-table"
    assert (
        query(endpoint, "{ whoami }", user)["data"]["whoami"] == "User Pool Authorization/dana/fixture-table"
    )

    denied = query(endpoint, "{ userOnly }")
    assert denied["errors"][0]["errorType"] == "Unauthorized"
    assert query(endpoint, "{ userOnly }", user)["data"]["userOnly"].startswith("User Pool")  # default mode

    assert (
        query(endpoint, "{ iamOnly }", user)["errors"][0]["message"]
        == "Not Authorized to access iamOnly on type Query"
    )
    body = '{"query": "{ iamOnly }"}'
    signed = AWSRequest("POST", endpoint.url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("AKIDLOCAL", "s3cret"), "appsync", "us-east-1").add_auth(signed)
    answer = requests.post(endpoint.url, data=body, headers=dict(signed.headers)).json()
    # A role caller is reported as AppSync reports one: the STS session ARN, no role path.
    arn = "arn:aws:sts::123456789012:assumed-role/fixture-backend/whoami-session"
    assert answer["data"]["iamOnly"] == f"IAM Authorization/{arn}/fixture-table"


def test_aws_scalars_are_validated_in_variables_and_literals(endpoint: Endpoint) -> None:
    ok = query(endpoint, "query($at: AWSDateTime!) { when(at: $at) }", at="2026-11-29T17:00:00.000Z")
    assert ok == {"data": {"when": "2026-11-29T17:00:00.000Z"}}
    for bad in ("2026-11-29", "2026-13-01T00:00:00Z", "2026-11-29T17:00:00", "yesterday"):
        answer = query(endpoint, "query($at: AWSDateTime!) { when(at: $at) }", at=bad)
        assert answer["data"] is None and "AWSDateTime" in answer["errors"][0]["message"], bad
    literal = query(endpoint, '{ when(at: "2026-02-30T25:00:00Z") }')
    assert "AWSDateTime" in literal["errors"][0]["message"]


def test_a_dead_worker_fails_its_request_and_is_replaced(endpoint: Endpoint) -> None:
    answer = query(endpoint, "{ dies }")
    assert answer["data"] == {"dies": None}
    assert answer["errors"][0]["errorType"] == "InternalFailure"
    assert "exited (code 3) while running dies.js" in answer["errors"][0]["message"]
    assert query(endpoint, "{ early }") == {"data": {"early": "returned early"}}

    os.kill(endpoint.worker.pid, signal.SIGKILL)
    restarts = endpoint.worker.restarts
    deadline = time.monotonic() + 5
    while endpoint.worker.pid_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert query(endpoint, "{ pipeline }") == {"data": {"pipeline": "20:1:addOne"}}
    assert endpoint.worker.restarts == restarts + 1


def test_an_edited_resolver_is_picked_up_without_a_restart(endpoint: Endpoint, tmp_path: Path) -> None:
    resolvers = tmp_path / "resolvers"
    resolvers.mkdir()
    for path in (FIXTURES / "resolvers").iterdir():
        (resolvers / path.name).write_text(path.read_text())
    auth = AuthConfig(token_secret=SECRET, api_key="runtime-key")
    nowhere = "http://127.0.0.1:9"
    config = EndpointConfig(
        nowhere, nowhere, "t", auth, schema_dir=FIXTURES / "schema", resolvers_dir=resolvers
    )
    copy = start_endpoint(config)
    try:
        assert query(copy, "{ early }")["data"] == {"early": "returned early"}
        edited = (resolvers / "early.js").read_text().replace("returned early", "edited")
        (resolvers / "early.js").write_text(edited)
        os.utime(resolvers / "early.js", (time.time() + 5, time.time() + 5))
        assert query(copy, "{ early }")["data"] == {"early": "edited"}
    finally:
        copy.close()


def test_serve_refuses_a_broken_manifest_with_a_clear_message(tmp_path: Path) -> None:
    resolver = {"type": "Query", "field": "x", "kind": "UNIT", "file": "missing.js", "data_source": "none"}
    (tmp_path / "manifest.json").write_text(json.dumps({"data_sources": {}, "resolvers": [resolver]}))
    nowhere = "http://127.0.0.1:9"
    argv = ["serve", "-d", nowhere, "-o", nowhere, "-t", "t", "-s", SECRET, "--resolvers-dir", str(tmp_path)]
    run = subprocess.run(
        [sys.executable, "-m", "devstack.appsync", *argv], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert "ManifestError: manifest names missing.js" in run.stderr
    assert run.stdout == "", "no ready line for a server that did not start"
