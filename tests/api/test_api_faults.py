"""Fault injection: the endpoint's dependencies are down; callers get typed errors, nothing hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.appsync.app import Endpoint, EndpointConfig, start_endpoint
from devstack.appsync.auth import AuthConfig, issue_token
from devstack.servers import free_port

SECRET = "faults-test-token-secret-32-bytes!!"


@pytest.fixture(scope="module")
def orphan() -> Iterator[Endpoint]:
    """An endpoint whose DynamoDB and OpenSearch endpoints have nothing listening."""
    dead = f"http://127.0.0.1:{free_port()}"
    endpoint = start_endpoint(
        EndpointConfig(dead, dead, "gone", AuthConfig(token_secret=SECRET, api_key="k"))
    )
    yield endpoint
    endpoint.close()


def post(endpoint: Endpoint, query: str, **variables: Any) -> dict[str, object]:
    headers = {"Authorization": issue_token("alice", SECRET)}
    response = requests.post(
        endpoint.url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    assert response.status_code == 200
    answer: dict[str, object] = response.json()
    return answer


def error_type(answer: dict[str, object]) -> object:
    errors = answer["errors"]
    assert isinstance(errors, list)
    return errors[0]["errorType"]


def test_unreachable_search_is_search_unavailable(orphan: Endpoint) -> None:
    answer = post(orphan, "{ searchListings { total } }")
    assert answer["data"] is None and error_type(answer) == "SearchUnavailableError"


def test_unreachable_dynamodb_is_a_typed_dynamodb_error_quickly(orphan: Endpoint) -> None:
    started = time.monotonic()
    answer = post(orphan, 'query { getListing(id: "x") { id } }')
    assert answer["data"] == {"getListing": None}
    assert error_type(answer) == "DynamoDB:ServiceUnavailable"
    created = post(
        orphan,
        "mutation($input: CreateListingInput!) { createListing(input: $input) { id } }",
        input={"title": "t", "category": "LAND", "price": 1, "currency": "EUR",
               "location": {"lat": 0, "lon": 0}, "city": "c"},
    )  # fmt: skip
    assert created["data"] is None and error_type(created) == "DynamoDB:ServiceUnavailable"
    assert time.monotonic() - started < 15
