"""A small GraphQL client for AppSync: IAM (SigV4, service `appsync`), API key or a user token.

Used by the seed script, the demo and the benchmark, against the local endpoint or a deployed API alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stackclient.errors import EndpointUnreachable, GraphQLClientError, GraphQLError


@dataclass
class GraphQLClient:
    """POST queries to one endpoint. `auth` is `iam`, `api_key` or `token`."""

    url: str
    region: str = "us-east-1"
    auth: str = "iam"
    api_key: str | None = None
    token: str | None = None
    credentials: Credentials | None = None
    timeout_s: float = 30.0
    # The local stack's CA (stack.json `ca_file`); None trusts the system's CAs, as for AWS.
    ca_file: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        if self.auth == "iam" and self.credentials is None:
            found = boto3.Session().get_credentials()
            if found is None:
                raise GraphQLClientError("IAM auth needs AWS credentials (none found in the environment)")
            self.credentials = found

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.auth == "api_key":
            headers["x-api-key"] = self.api_key or ""
        elif self.auth == "token":
            headers["Authorization"] = self.token or ""
        else:
            request = AWSRequest("POST", self.url, data=body, headers=headers)
            SigV4Auth(self.credentials, "appsync", self.region).add_auth(request)
            headers = dict(request.headers.items())
        return headers

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation; return its `data`, or raise GraphQLError / EndpointUnreachable."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers=self._headers(body),
                timeout=self.timeout_s,
                verify=self.ca_file or True,
            )
        except requests.ConnectionError as error:
            raise EndpointUnreachable(f"cannot reach the GraphQL endpoint {self.url}: {error}") from error
        except requests.Timeout as error:
            raise EndpointUnreachable(f"no answer from {self.url} within {self.timeout_s} s") from error
        try:
            payload = response.json()
        except ValueError as error:
            raise GraphQLClientError(
                f"HTTP {response.status_code} from {self.url}: {response.text[:200]}"
            ) from error
        if payload.get("errors"):
            raise GraphQLError(payload["errors"])
        if response.status_code >= 400:
            raise GraphQLClientError(f"HTTP {response.status_code} from {self.url}: {response.text[:200]}")
        data: dict[str, Any] = payload.get("data") or {}
        return data
