"""The projector's HTTP client for OpenSearch: urllib3's keep-alive connection pool, optional SigV4.

urllib3 is bundled in the Lambda zip at the version pinned in pyproject.toml (botocore, which signs the
requests, depends on it too). What the bulk writer relies on: :meth:`Transport.request` raises
TransportError on connection errors, timeouts and malformed answers, never because of a status, and it
retries nothing but a keep-alive connection the server closed while it sat idle (that request never got
an answer; urllib3 drops most such connections before use, this covers the race with the server's own
idle timeout). Every other retry is the writer's, with backoff, within the invocation's deadline. SigV4
uses botocore's own signer and credential chain, imported only when signing is on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError, ProtocolError

from projector.exceptions import ConfigError, TransportError

if TYPE_CHECKING:
    from collections.abc import Mapping

AUTH_MODES = ("sigv4", "sigv4-aoss", "none")
_SERVICE = {"sigv4": "es", "sigv4-aoss": "aoss"}
_UNANSWERED = (RemoteDisconnected, ConnectionResetError, BrokenPipeError)
"""How a request on a connection the server has closed fails: no answer at all."""
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class Transport:
    """Sends requests to one OpenSearch endpoint; thread-safe.

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
    max_connections:
        Idle keep-alive connections kept for reuse (more threads get connections of their own).
    service:
        The SigV4 service name when it is not OpenSearch's (``appsync`` for the projection signal).
    ca_file:
        PEM CA bundle to trust instead of the system's (the local stack's own CA); https only.
    """

    def __init__(
        self,
        endpoint: str,
        auth: str = "none",
        region: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        max_connections: int = 4,
        service: str | None = None,
        ca_file: str | None = None,
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
        self.auth = auth
        self.region = region
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._tls: dict[str, Any] = {"ca_certs": ca_file} if ca_file and parts.scheme == "https" else {}
        self._pool = self._new_pool()
        self._signer: _SigV4Signer | None = None
        if auth != "none":
            self._signer = _SigV4Signer(service or _SERVICE[auth], region or "")

    def _new_pool(self) -> urllib3.HTTPConnectionPool:
        # block=False: a thread that finds no idle connection opens one rather than waiting for another's.
        return urllib3.connection_from_url(
            self.endpoint, maxsize=self.max_connections, block=False, **self._tls
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        timeout: float | None = None,
        content_type: str = "application/json",
    ) -> Response:
        """Send one request; raise TransportError on connection errors and timeouts (never on a status)."""
        url_path = self._prefix + path or "/"
        headers = {"Content-Type": content_type} if body is not None else {}
        if self._signer is not None:
            headers = self._signer.sign(method, self.endpoint + path, body, headers)
        read = self.read_timeout if timeout is None else max(0.05, min(timeout, self.read_timeout))
        limits = urllib3.Timeout(connect=min(self.connect_timeout, read), read=read)
        pool = self._pool
        for attempt in (1, 2):
            opened = pool.num_connections
            try:
                answer = pool.urlopen(
                    method,
                    url_path,
                    body=body,
                    headers=headers,
                    retries=False,
                    redirect=False,
                    timeout=limits,
                )
            except (HTTPError, OSError) as exc:
                cause = exc.args[1] if isinstance(exc, ProtocolError) and len(exc.args) > 1 else exc
                unanswered = isinstance(cause, _UNANSWERED)
                if unanswered and attempt == 1 and pool.num_connections == opened:
                    continue  # a reused connection: the server had closed it; once more on a new one
                if isinstance(cause, RemoteDisconnected):
                    raise TransportError(
                        f"{method} {path}: the server closed the connection without answering"
                    ) from exc
                raise TransportError(f"{method} {path}: {type(cause).__name__}: {cause}") from exc
            data: bytes = answer.data
            length = answer.headers.get("Content-Length")
            if (
                length is not None
                and method != "HEAD"
                and answer.status not in _NO_BODY
                and (not length.isdigit() or int(length) != len(data))
            ):
                raise TransportError(f"{method} {path}: bad Content-Length {length!r} for {len(data)} bytes")
            return Response(answer.status, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle connections (the transport stays usable: it opens new ones)."""
        pool, self._pool = self._pool, self._new_pool()
        pool.close()


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

    def sign(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed: dict[str, Any] = dict(headers)
        # Serverless requires the payload hash header; managed domains accept it.
        signed["X-Amz-Content-SHA256"] = hashlib.sha256(body or b"").hexdigest()
        request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
        SigV4Auth(self._credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)
        return {key: str(val) for key, val in request.headers.items()}
