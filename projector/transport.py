"""A lean HTTP client for OpenSearch: a small pool of keep-alive ``http.client`` connections, optional
SigV4 signing.

Chosen over opensearch-py (which loads aiohttp eagerly, ~110 ms) and urllib3 (~70 ms more import for
nothing this client needs) to keep the cold start and the per-request CPU small. SigV4 uses botocore's
own signer and credential chain, imported only when signing is on.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from projector.exceptions import ConfigError, TransportError

if TYPE_CHECKING:
    from collections.abc import Mapping

AUTH_MODES = ("sigv4", "sigv4-aoss", "none")
_SERVICE = {"sigv4": "es", "sigv4-aoss": "aoss"}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class Transport:
    """Sends requests to one OpenSearch endpoint.

    Parameters
    ----------
    endpoint:
        ``https://host`` or ``http://127.0.0.1:port`` (a path prefix is kept).
    auth:
        ``sigv4`` (Amazon OpenSearch Service), ``sigv4-aoss`` (Serverless) or ``none``.
    region:
        AWS region for signing (required for the SigV4 modes).
    connect_timeout, read_timeout:
        Seconds; a request may pass a shorter read timeout (the invocation's remaining time).
    """

    def __init__(
        self,
        endpoint: str,
        auth: str = "none",
        region: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        max_connections: int = 4,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError([f"OpenSearch endpoint must be an http(s) URL, got {endpoint!r}"])
        if auth not in AUTH_MODES:
            raise ConfigError([f"auth must be one of {', '.join(AUTH_MODES)}, got {auth!r}"])
        if auth != "none" and not region:
            raise ConfigError([f"auth {auth} needs an AWS region (AWS_REGION)"])
        self.endpoint = endpoint.rstrip("/")
        self._prefix = parts.path.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self.auth = auth
        self.region = region
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._signer: _SigV4Signer | None = None
        if auth != "none":
            self._signer = _SigV4Signer(_SERVICE[auth], region or "")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        timeout: float | None = None,
        content_type: str = "application/json",
    ) -> Response:
        """Send one request; raise TransportError on connection errors and timeouts (never on a status)."""
        url_path = self._prefix + path
        headers = {"Content-Type": content_type} if body is not None else {}
        if self._signer is not None:
            headers = self._signer.sign(method, self.endpoint + path, url_path, body, headers)
        read = self.read_timeout if timeout is None else max(0.05, min(timeout, self.read_timeout))
        for attempt in (1, 2):
            connection, reused = self._acquire()
            try:
                sock = connection.sock
                if sock is None:
                    connection.timeout = min(self.connect_timeout, read)
                    connection.connect()
                    sock = connection.sock
                    # http.client writes headers and body separately: without this, Nagle's algorithm
                    # holds the body back until the headers are acknowledged.
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(read)
                connection.request(method, url_path, body=body, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                # A keep-alive connection the server closed while idle fails at once: reconnect once.
                stale = reused and isinstance(exc, http.client.RemoteDisconnected | BrokenPipeError)
                if attempt == 1 and stale:
                    continue
                raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            if reply.will_close:
                connection.close()
            else:
                self._release(connection)
            return Response(reply.status, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def _acquire(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.connect_timeout), False
        return http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout), False

    def _release(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.max_connections:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class _SigV4Signer:
    """Signs requests with botocore's SigV4 signer, refreshing credentials through botocore's chain."""

    def __init__(self, service: str, region: str) -> None:
        from botocore.session import Session

        credentials = Session().get_credentials()
        if credentials is None:
            raise ConfigError(["SigV4 auth needs AWS credentials, and none were found"])
        self._credentials = credentials
        self.service = service
        self.region = region

    def sign(
        self, method: str, url: str, url_path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed: dict[str, Any] = dict(headers)
        # Serverless requires the payload hash header; managed domains accept it.
        signed["X-Amz-Content-SHA256"] = hashlib.sha256(body or b"").hexdigest()
        request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
        SigV4Auth(self._credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)
        return {key: str(val) for key, val in request.headers.items()}
