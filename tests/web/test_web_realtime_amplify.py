"""The real Amplify v6 client subscribing to the local endpoint over wss:// in each auth mode.

`web/e2e/amplify-realtime.test.mjs` runs in Node (its WebSocket behind `--experimental-websocket` on
Node 20) against an endpoint these tests start over TLS; Node trusts the endpoint's CA only
(`NODE_EXTRA_CA_CERTS`). The raw protocol is tested frame by frame in tests/api/test_realtime.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from web_support import run_browser_test

from devstack.appsync.app import Endpoint, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig, issue_token
from devstack.appsync.tls import LocalTLS, create_local_tls
from devstack.resources import create_resources
from devstack.servers import ChildServer
from stackclient.stack import LOCAL_AWS_ENV

API_KEY = "amplify-realtime-key"
SECRET = "amplify-realtime-token-secret-32-bytes!"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> LocalTLS:
    return create_local_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def endpoint(moto_server: ChildServer, osmem: ChildServer, tls: LocalTLS) -> Iterator[Endpoint]:
    table = f"amplify-rt-{uuid.uuid4().hex[:8]}"
    create_resources(moto_server.url, table_name=table)
    iam = {LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"]: LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"]}
    auth = AuthConfig(token_secret=SECRET, api_key=API_KEY, iam_credentials=iam)
    running = start_endpoint(
        EndpointConfig(moto_server.url, osmem.url, table, auth, tls_cert=tls.cert_file, tls_key=tls.key_file)
    )
    yield running
    running.close()


def test_amplify_subscribes_in_each_auth_mode(endpoint: Endpoint, tls: LocalTLS) -> None:
    env = {
        "GRAPHQL_URL": endpoint.url,
        "API_KEY": API_KEY,
        "TOKEN": issue_token("alice", SECRET),
        "NODE_EXTRA_CA_CERTS": str(tls.ca_file),
        "NODE_OPTIONS": "--experimental-websocket",
        **{k: LOCAL_AWS_ENV[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")},
    }
    counts = run_browser_test("amplify-realtime", env, timeout=90)
    assert counts["pass"] == 3
