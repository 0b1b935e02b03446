"""A lean HTTP/1.1 client for OpenSearch: a small pool of keep-alive sockets, optional SigV4 signing.

Chosen over opensearch-py (which loads aiohttp eagerly) and urllib3 to keep the cold start small, and
over ``http.client``, whose header parsing (the ``email`` package) and separate header/body writes were
most of the per-invocation overhead at small batch sizes (figures: projector/README.md, Performance). It
speaks the subset OpenSearch uses: one request at a time per connection, ``Content-Length`` or chunked
answers, ``Connection: close``. SigV4 uses botocore's own signer and credential chain, imported only when
signing is on.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from projector.exceptions import ConfigError, TransportError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

AUTH_MODES = ("sigv4", "sigv4-aoss", "none")
_SERVICE = {"sigv4": "es", "sigv4-aoss": "aoss"}
_MAX_LINE = 65536
_MAX_HEADERS = 100
_SEND_TOGETHER = 64 * 1024
"""Bodies up to this size go out in the same write as the headers (one syscall, one TCP segment run)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class _Disconnected(ConnectionResetError):
    """The server closed the connection without answering (a keep-alive connection it timed out)."""


class _ProtocolError(OSError):
    """An answer that is not valid HTTP/1.x."""


class _Connection:
    """One socket and its buffered reader."""

    __slots__ = ("reader", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.reader: BinaryIO | None = None

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


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
        default_port = 443 if self._https else 80
        host = f"[{self._host}]" if ":" in self._host else self._host  # IPv6 literal
        self._host_header = host if self._port == default_port else f"{host}:{self._port}"
        self.auth = auth
        self.region = region
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
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
        head = self._head(method, url_path, body, headers)
        read = self.read_timeout if timeout is None else max(0.05, min(timeout, self.read_timeout))
        for attempt in (1, 2):
            connection, reused = self._acquire()
            try:
                sock = connection.sock
                if sock is None:
                    sock = self._connect(connection, min(self.connect_timeout, read))
                sock.settimeout(read)
                if body and len(body) > _SEND_TOGETHER:
                    sock.sendall(head)
                    sock.sendall(body)
                else:
                    sock.sendall(head + body if body else head)
                status, data, keep = _read_response(connection.reader, method)  # type: ignore[arg-type]
            except (OSError, ValueError) as exc:
                connection.close()
                # A keep-alive connection the server closed while idle fails at once: reconnect once.
                # (Whether that shows as end-of-file or a reset depends on timing: both count.)
                stale = reused and isinstance(exc, ConnectionResetError | BrokenPipeError)
                if attempt == 1 and stale:
                    continue
                raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            if keep:
                self._release(connection)
            else:
                connection.close()
            return Response(status, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def _head(self, method: str, url_path: str, body: bytes | None, headers: Mapping[str, str]) -> bytes:
        lines = [f"{method} {url_path or '/'} HTTP/1.1"]
        names = {name.lower() for name in headers}
        if "host" not in names:
            lines.append(f"Host: {self._host_header}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if "content-length" not in names and (body is not None or method in ("POST", "PUT", "PATCH")):
            lines.append(f"Content-Length: {len(body) if body else 0}")
        lines.append("Accept-Encoding: identity\r\n\r\n")
        return "\r\n".join(lines).encode("latin-1")

    def _connect(self, connection: _Connection, timeout: float) -> socket.socket:
        sock = socket.create_connection((self._host, self._port), timeout=timeout)
        # Requests are written whole and answered before the next: Nagle's algorithm only adds delay.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._https:
            sock = self._tls_context().wrap_socket(sock, server_hostname=self._host)
        connection.sock = sock
        connection.reader = sock.makefile("rb")
        return sock

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import ssl

            context = ssl.create_default_context()
            context.set_alpn_protocols(["http/1.1"])
            self._tls = context
        return self._tls

    def _acquire(self) -> tuple[_Connection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return _Connection(), False

    def _release(self, connection: _Connection) -> None:
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


def _read_response(reader: BinaryIO, method: str) -> tuple[int, bytes, bool]:
    """Read one answer: (status, body, whether the connection can be reused)."""
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise _Disconnected("the server closed the connection without answering")
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise _ProtocolError(f"bad status line {line[:80]!r}")
        status = int(code)
        length: int | None = None
        chunked = False
        connection = b""
        for _ in range(_MAX_HEADERS + 1):
            header = reader.readline(_MAX_LINE + 1)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                connection = value.strip().lower()
        else:
            raise _ProtocolError("too many headers")
        if status >= 200 or status == 101:
            break  # 1xx interim answers (100 Continue) are followed by the real one
    keep = connection != b"close" and (version != b"HTTP/1.0" or connection == b"keep-alive")
    if method == "HEAD" or status in (204, 304):
        return status, b"", keep
    if chunked:
        return status, _read_chunked(reader), keep
    if length is not None:
        if length < 0:
            raise _ProtocolError(f"bad Content-Length {length}")
        data = reader.read(length)
        if len(data) != length:
            raise _ProtocolError(f"answer cut short: {len(data)} of {length} bytes")
        return status, data, keep
    return status, reader.read(), False  # no length: the body ends when the server closes


def _read_chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = reader.readline(_MAX_LINE + 1)
        if not size_line:
            raise _ProtocolError("chunked answer cut short")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while reader.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        chunk = reader.read(size)
        if len(chunk) != size:
            raise _ProtocolError("chunked answer cut short")
        parts.append(chunk)
        reader.readline(_MAX_LINE + 1)  # the CRLF after each chunk


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
