"""Auth modes, directives, CORS and the HTTP contract of the local endpoint."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from apikit import TOKEN_SECRET, Api
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol

from devstack.appsync.auth import issue_token, local_sub

REPO = Path(__file__).resolve().parents[2]
GET = "query($id: ID!) { getListing(id: $id) { id } }"
CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id } }"
INPUT = {
    "title": "Key holder's flat",
    "category": "ROOM",
    "price": 10,
    "currency": "EUR",
    "location": {"lat": 1, "lon": 1},
    "city": "Town",
}


def test_requests_without_valid_credentials_get_401(api: Api) -> None:
    for headers in ({}, {"x-api-key": "wrong"}, {"Authorization": issue_token("eve", "another-secret-" * 3)}):
        response = api.post(GET, {"id": "x"}, **headers)
        assert response.status_code == 401, headers
        assert response.json()["errors"][0]["errorType"] == "UnauthorizedException"
    expired = issue_token("eve", TOKEN_SECRET, lifetime_s=-60)
    assert api.post(GET, {"id": "x"}, Authorization=expired).status_code == 401


def test_api_key_may_read_but_not_write(api: Api) -> None:
    assert api.as_api_key(GET, {"id": "nothing"}) == {"data": {"getListing": None}}
    listing_id = f"key-{uuid.uuid4().hex[:8]}"
    answer = api.as_api_key(CREATE, {"input": {**INPUT, "id": listing_id}})
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access createListing on type Mutation"
    assert error["path"] == ["createListing"]
    assert api.stored(listing_id) is None


def test_iam_signatures_are_verified(api: Api) -> None:
    body = json.dumps({"query": GET, "variables": {"id": "x"}})
    good = AWSRequest("POST", api.url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "testing"), "appsync", "us-east-1").add_auth(good)
    assert api.session.post(api.url, data=body, headers=dict(good.headers)).status_code == 200

    tampered = body.replace('"x"', '"y"')
    response = api.session.post(api.url, data=tampered, headers=dict(good.headers))
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorType"] == "InvalidSignatureException"

    wrong_secret = AWSRequest("POST", api.url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "not-the-secret"), "appsync", "us-east-1").add_auth(wrong_secret)
    assert api.session.post(api.url, data=body, headers=dict(wrong_secret.headers)).status_code == 401

    other_service = AWSRequest("POST", api.url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "testing"), "execute-api", "us-east-1").add_auth(other_service)
    assert api.session.post(api.url, data=body, headers=dict(other_service.headers)).status_code == 401


def test_the_token_command_prints_a_token_the_server_accepts(api: Api) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "devstack.appsync", "token", "carol", "--token-secret", TOKEN_SECRET],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    token = run.stdout.strip()
    created = api.post(CREATE, {"input": INPUT}, Authorization=token).json()
    assert created["data"]["createListing"]["id"], created
    owner = api.as_api_key(
        "query($id: ID!) { getListing(id: $id) { owner } }", created["data"]["createListing"]
    )
    assert owner["data"]["getListing"]["owner"] == local_sub("carol")


def test_a_subscription_over_http_post_points_to_the_realtime_endpoint(api: Api) -> None:
    answer = api.as_api_key("subscription { onListingChanged { id } }")
    assert answer["data"] is None
    assert answer["errors"][0]["errorType"] == "UnsupportedOperation"
    assert "/graphql/realtime" in answer["errors"][0]["message"]


def test_cors_lets_a_browser_call_with_api_key_or_token(api: Api) -> None:
    origin = "http://localhost:5173"
    preflight = api.session.options(
        api.url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key,authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-api-key", "authorization", "x-amz-date"} <= allowed
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    response = api.post(GET, {"id": "x"}, Origin=origin, **{"x-api-key": "local-test-api-key"})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    unauthorised = api.post(GET, {"id": "x"}, Origin=origin)
    assert unauthorised.status_code == 401 and unauthorised.headers["Access-Control-Allow-Origin"] == origin


def test_malformed_requests_get_400_and_graphql_errors_keep_appsync_shape(api: Api) -> None:
    key = {"x-api-key": "local-test-api-key"}
    broken = api.session.post(api.url, data="{not json", headers=key)
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"
    no_query = api.session.post(api.url, data=json.dumps({"variables": {}}), headers=key)
    assert no_query.status_code == 400
    unknown = api.as_api_key("{ getListing(id: 1) { nope } }")
    assert unknown["data"] is None
    assert "nope" in unknown["errors"][0]["message"] and unknown["errors"][0]["locations"]


def test_a_forged_content_hash_does_not_carry_a_signature_to_another_body(api: Api) -> None:
    """The payload hash is computed from the body received: a signed request's headers (hash claim
    included) replayed with another body are refused (issue 15, item 7)."""
    body = json.dumps({"query": GET, "variables": {"id": "x"}})
    claim = hashlib.sha256(body.encode()).hexdigest()
    signed = AWSRequest(
        "POST",
        api.url,
        data=body,
        headers={"Content-Type": "application/json", "X-Amz-Content-Sha256": claim},
    )
    SigV4Auth(Credentials("testing", "testing"), "appsync", "us-east-1").add_auth(signed)
    assert "x-amz-content-sha256" in signed.headers["Authorization"].lower()  # the claim is signed
    assert api.session.post(api.url, data=body, headers=dict(signed.headers)).status_code == 200

    forged = json.dumps({"query": CREATE, "variables": {"input": {**INPUT, "id": "forged"}}})
    response = api.session.post(api.url, data=forged, headers=dict(signed.headers))
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorType"] == "InvalidSignatureException"
    assert api.stored("forged") is None


def _refused(response: requests.Response, what: str) -> None:
    assert response.status_code == 403, (what, response.text)
    [error] = response.json()["errors"]
    assert error["errorType"] == "ForbiddenException" and what in error["message"]
    assert "Access-Control-Allow-Origin" not in response.headers  # a foreign page cannot read it


def test_requests_that_name_another_host_or_origin_are_refused(api: Api) -> None:
    key = {"x-api-key": "local-test-api-key"}
    # DNS rebinding: a name that resolves to 127.0.0.1 reaches the socket, but its Host is not loopback.
    _refused(api.post(GET, {"id": "x"}, Host="attacker.example", **key), "Host")
    _refused(api.post(GET, {"id": "x"}, Host="192.168.1.20:8787", **key), "Host")
    # A page on another site calling from the user's browser.
    for origin in ("https://attacker.example", "http://127.0.0.1.attacker.example:8080", "null"):
        _refused(api.post(GET, {"id": "x"}, Origin=origin, **key), "Origin")
    preflight = api.session.options(api.url, headers={"Origin": "https://attacker.example"})
    assert preflight.status_code == 403
    # The web page's dev server and pages served from the loopback keep working, over IPv4, IPv6 or name.
    for origin in (
        "http://localhost:5173",
        "http://127.0.0.1:4173",
        "https://[::1]:8443",
        "http://localhost",
    ):
        response = api.post(GET, {"id": "x"}, Origin=origin, **key)
        assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == origin


def test_a_websocket_from_another_origin_is_refused(api: Api) -> None:
    context = ssl.create_default_context(cafile=str(api.ca_file))
    url = api.url.replace("https://", "wss://") + "/realtime"
    with pytest.raises(InvalidStatus) as refused:
        connect(
            url,
            ssl=context,
            origin=Origin("https://attacker.example"),
            subprotocols=[Subprotocol("graphql-ws")],
        )
    assert refused.value.response.status_code == 403
    with connect(
        url, ssl=context, origin=Origin("http://localhost:5173"), subprotocols=[Subprotocol("graphql-ws")]
    ):
        pass


def _serve_argv(*extra: str) -> list[str]:
    dead = "http://127.0.0.1:9"  # never called: the process is stopped once it is ready
    return [
        sys.executable, "-m", "devstack.appsync", "serve", "--port", "0",
        "--dynamodb-endpoint", dead, "--opensearch-endpoint", dead, "--table", "t",
        "--token-secret", TOKEN_SECRET, *extra,
    ]  # fmt: skip


def test_binding_beyond_the_loopback_needs_a_flag_and_warns() -> None:
    refused = subprocess.run(
        _serve_argv("--host", "0.0.0.0"), cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 1
    assert "--allow-non-loopback" in refused.stderr
    process = subprocess.Popen(
        _serve_argv("--host", "0.0.0.0", "--allow-non-loopback"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready = json.loads(process.stdout.readline())
        assert ready["url"].startswith("http://0.0.0.0:")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "WARNING: serving on 0.0.0.0" in stderr
