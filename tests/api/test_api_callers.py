"""IAM callers get only what they need (issue 15, item 5), through the local endpoint and the real resolvers.

The endpoint reports each local key as the assumed role it stands for (`LocalRole`), as AppSync reports a
role caller; `pipeline.js` admits only the roles in `ctx.env.IAM_CALLER_ROLES` and never identity-pool
credentials. The search backend is down here on purpose: what a caller learns of that is a typed, generic
error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.appsync.app import Endpoint, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig, LocalRole
from devstack.resources import create_resources
from devstack.servers import ChildServer, free_port

SECRET = "callers-test-token-secret-32-bytes!"
BACKEND, INTRUDER, POOL = "AKIDBACKEND", "AKIDINTRUDER", "AKIDPOOL"
KEYS = {BACKEND: "backend-secret", INTRUDER: "intruder-secret", POOL: "pool-secret"}
ROLES = {
    BACKEND: LocalRole("cqrs-local-seed", "seed-run"),
    INTRUDER: LocalRole("cqrs-local-reporting", "cron-run"),
    # The same (allowed) role name, but handed out by a Cognito identity pool: a person, not a backend.
    POOL: LocalRole(
        "cqrs-local-seed",
        "CognitoIdentityCredentials",
        identity_pool_id="us-east-1:5b1f6a70-0000-4000-8000-000000000001",
    ),
}
CREATE = "mutation($input: CreateListingInput!) { createListing(input: $input) { id owner } }"
GET = "query($id: ID!) { getListing(id: $id) { id } }"
BY_OWNER = "query($owner: String!) { listingsByOwner(owner: $owner) { items { id } } }"
SEARCH = '{ searchListings(query: "flat") { total } }'


def listing_input(listing_id: str) -> dict[str, Any]:
    return {
        "id": listing_id,
        "title": "Backend flat",
        "category": "ROOM",
        "price": 10,
        "currency": "EUR",
        "location": {"lat": 1, "lon": 1},
        "city": "Town",
        "owner": "seeded-owner",
    }


@pytest.fixture(scope="module")
def endpoint(moto_server: ChildServer) -> Iterator[Endpoint]:
    table = f"callers-{uuid.uuid4().hex[:8]}"
    create_resources(moto_server.url, table_name=table)
    auth = AuthConfig(
        token_secret=SECRET,
        iam_credentials=KEYS,
        iam_roles=ROLES,
        allowed_iam_roles=("cqrs-local-seed", "cqrs-local-projector"),
    )
    down = f"http://127.0.0.1:{free_port()}"  # OpenSearch: nothing listens
    running = start_endpoint(EndpointConfig(moto_server.url, down, table, auth))
    yield running
    running.close()


def as_key(endpoint: Endpoint, key: str, query: str, **variables: Any) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})
    request = AWSRequest("POST", endpoint.url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, KEYS[key]), "appsync", "us-east-1").add_auth(request)
    response = requests.post(endpoint.url, data=body, headers=dict(request.headers), timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_allow_listed_backend_role_may_write_and_read(endpoint: Endpoint) -> None:
    listing_id = f"backend-{uuid.uuid4().hex[:8]}"
    created = as_key(endpoint, BACKEND, CREATE, input=listing_input(listing_id))
    assert created == {"data": {"createListing": {"id": listing_id, "owner": "seeded-owner"}}}
    assert as_key(endpoint, BACKEND, GET, id=listing_id) == {"data": {"getListing": {"id": listing_id}}}
    page = as_key(endpoint, BACKEND, BY_OWNER, owner="seeded-owner")
    assert "errors" not in page, page


@pytest.mark.parametrize("key", [INTRUDER, POOL], ids=["role-not-on-the-list", "identity-pool"])
def test_other_iam_callers_are_refused_on_every_field(endpoint: Endpoint, key: str) -> None:
    listing_id = f"refused-{uuid.uuid4().hex[:8]}"
    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        ("createListing", "Mutation", CREATE, {"input": listing_input(listing_id)}),
        ("getListing", "Query", GET, {"id": listing_id}),
        ("listingsByOwner", "Query", BY_OWNER, {"owner": "seeded-owner"}),
        ("searchListings", "Query", SEARCH, {}),
    ]
    for field, type_name, query, variables in cases:
        answer = as_key(endpoint, key, query, **variables)
        [error] = answer["errors"]
        assert error["errorType"] == "Unauthorized", answer
        assert error["message"] == f"Not Authorized to access {field} on type {type_name}"
        assert error["path"] == [field]
    # Nothing was written on the refused caller's behalf.
    assert as_key(endpoint, BACKEND, GET, id=listing_id) == {"data": {"getListing": None}}


def test_search_failures_reach_clients_typed_and_generic(endpoint: Endpoint) -> None:
    answer = as_key(endpoint, BACKEND, SEARCH)
    [error] = answer["errors"]
    assert error["errorType"] == "SearchUnavailableError"
    assert error["message"] == "Search is unavailable; try again later"
    # Not a word of what the data source said: no address, no index, no ARN.
    assert "127.0.0.1" not in json.dumps(answer) and "listings" not in error["message"]
