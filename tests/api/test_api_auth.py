"""Auth modes, directives, CORS and the HTTP contract of the local endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from apikit import TOKEN_SECRET, Api
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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
