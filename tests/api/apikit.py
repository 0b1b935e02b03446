"""The end-to-end tests' handle on the local API: calls in each auth mode, and the projector."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.appsync.auth import issue_token
from devstack.poller import StreamPoller
from projector import cascade
from projector import handler as projector_handler
from stackclient.stack import LOCAL_AWS_ENV

API_KEY = "local-test-api-key"
TOKEN_SECRET = "local-test-token-secret-of-32-bytes-or-more"


@dataclass
class Api:
    """The endpoint plus helpers to call it in each auth mode and to project the stream."""

    url: str
    table: str
    poller: StreamPoller
    dynamodb: Any
    projector_env: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)
    ca_file: Path | None = None  # the endpoint's CA (it serves https); the session trusts it
    cascade_poller: StreamPoller | None = None  # the review cascade's own reading of the stream

    def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> requests.Response:
        body = json.dumps({"query": query, "variables": variables or {}})
        return self.session.post(self.url, data=body, headers={"Content-Type": "application/json", **headers})

    def as_user(self, username: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.post(
            query, variables, Authorization=issue_token(username, TOKEN_SECRET)
        ).json()
        return answer

    def as_iam(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}})
        request = AWSRequest("POST", self.url, data=body, headers={"Content-Type": "application/json"})
        credentials = Credentials(LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"], LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"])
        SigV4Auth(credentials, "appsync", "us-east-1").add_auth(request)
        answer: dict[str, Any] = self.session.post(self.url, data=body, headers=dict(request.headers)).json()
        return answer

    def as_api_key(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.post(query, variables, **{"x-api-key": API_KEY}).json()
        return answer

    def project(self) -> None:
        """Run the projector over everything the stream holds so far.

        The projector reads its configuration from the environment (and caches it), so the environment
        is set for this call only and the cache is dropped around it: other suites see nothing of it.
        """
        saved = dict(os.environ)
        os.environ.update(self.projector_env)
        projector_handler.reset()
        try:
            self.poller.drain()
        finally:
            os.environ.clear()
            os.environ.update(saved)
            projector_handler.reset()

    def cascade(self) -> None:
        """Run the review cascade (projector/cascade.py) over everything the stream holds so far, as its own
        event source mapping would; its deletes reach search on the next `project()`."""
        assert self.cascade_poller is not None
        saved = dict(os.environ)
        os.environ.update({**self.projector_env, "TABLE_NAME": self.table})
        cascade.reset()
        try:
            self.cascade_poller.drain()
        finally:
            os.environ.clear()
            os.environ.update(saved)
            cascade.reset()

    def stored(self, listing_id: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"LISTING#{listing_id}"}, "sk": {"S": "LISTING"}}
        item: dict[str, Any] | None = self.dynamodb.get_item(
            TableName=self.table, Key=key, ConsistentRead=True
        ).get("Item")
        return item
