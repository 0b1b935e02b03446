"""A raw client of AppSync's real-time protocol for the tests: frames written by hand, sent through the
`websockets` library, so every message the endpoint gets or sends is visible to the test."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from devstack.appsync.auth import issue_token
from stackclient.stack import LOCAL_AWS_ENV

# What Amplify signs besides host and date (AWS_APPSYNC_REALTIME_HEADERS in @aws-amplify/api-graphql).
REALTIME_HEADERS = {
    "accept": "application/json, text/javascript",
    "content-encoding": "amz-1.0",
    "content-type": "application/json; charset=UTF-8",
}
CREDENTIALS = Credentials(LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"], LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"])


@dataclass(frozen=True)
class Target:
    """Where the endpoint is and what it accepts."""

    graphql_url: str  # https://127.0.0.1:P/graphql
    ca_file: Path
    api_key: str
    token_secret: str

    @property
    def host(self) -> str:
        return urlsplit(self.graphql_url).netloc

    @property
    def realtime_url(self) -> str:
        return self.graphql_url.replace("https://", "wss://") + "/realtime"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    # -- auth headers, as Amplify builds them --------------------------------------------------------

    def api_key_header(self, key: str | None = None) -> dict[str, str]:
        return {"host": self.host, "x-api-key": key if key is not None else self.api_key}

    def user_header(self, username: str, secret: str | None = None) -> dict[str, str]:
        return {"host": self.host, "Authorization": issue_token(username, secret or self.token_secret)}

    def iam_header(self, body: str, connect: bool, credentials: Credentials = CREDENTIALS) -> dict[str, str]:
        """SigV4 of `POST <graphql url>/connect` with `{}` (connect) or of `POST <graphql url>` (start)."""
        url = self.graphql_url + ("/connect" if connect else "")
        request = AWSRequest("POST", url, data=body, headers={**REALTIME_HEADERS, "host": self.host})
        SigV4Auth(credentials, "appsync", "us-east-1").add_auth(request)
        return dict(request.headers.items())


def b64url(header: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")


class Raw:
    """One connection: send dicts or raw text, receive parsed messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.kas: list[float] = []  # when each `ka` arrived

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message other than `ka` (those are timed in `kas`) within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.monotonic()))
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ka":
                self.kas.append(time.monotonic())
                continue
            return message

    async def expect(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        message = await self.recv(timeout)
        assert message.get("type") == kind, message
        return message

    async def nothing_for(self, seconds: float) -> None:
        """No message other than `ka` arrives within `seconds`."""
        try:
            message = await self.recv(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")

    async def init(self) -> dict[str, Any]:
        await self.send({"type": "connection_init"})
        return await self.expect("connection_ack")

    async def start(
        self,
        subscription_id: str,
        query: str,
        authorization: dict[str, str] | None,
        variables: dict[str, Any] | None = None,
        data: str | None = None,
    ) -> None:
        data = data if data is not None else json.dumps({"query": query, "variables": variables or {}})
        payload: dict[str, Any] = {"data": data, "extensions": {"authorization": authorization}}
        await self.send({"id": subscription_id, "type": "start", "payload": payload})

    async def subscribe(
        self, subscription_id: str, query: str, authorization: dict[str, str], **variables: Any
    ) -> None:
        await self.start(subscription_id, query, authorization, variables)
        ack = await self.expect("start_ack")
        assert ack["id"] == subscription_id


async def open_raw(
    target: Target, header: dict[str, str] | None, *, via: str = "subprotocol", **kwargs: Any
) -> Raw:
    """Connect as Amplify v6 does (`header-` subprotocol) or as AWS's protocol page shows (query)."""
    url, subprotocols = target.realtime_url, [Subprotocol("graphql-ws")]
    if header is not None and via == "subprotocol":
        subprotocols.append(Subprotocol(f"header-{b64url(header)}"))
    elif header is not None:
        encoded = base64.b64encode(json.dumps(header).encode()).decode()
        url += f"?header={quote(encoded)}&payload={quote(base64.b64encode(b'{}').decode())}"
    ws = await connect(url, subprotocols=subprotocols, ssl=target.ssl_context(), **kwargs)
    assert ws.subprotocol == "graphql-ws"
    return Raw(ws)
