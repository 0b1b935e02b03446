"""The endpoint's one server: uvicorn serving a Starlette app (`POST /graphql`, CORS, `GET /health`).

Requests without valid credentials get HTTP 401 before anything runs; bodies over 1 MiB get 413. GraphQL
execution is synchronous (the Node worker and the DynamoDB write lock are thread-bound), so it runs in
Starlette's thread pool and the event loop never waits on a resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from devstack.appsync.auth import authenticate
from devstack.appsync.errors import AppSyncError, AuthenticationError
from devstack.appsync.execution import GraphQLApp
from devstack.appsync.publish import Publication

ALLOWED_HEADERS = (
    "Content-Type, X-Api-Key, Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent, "
    "X-Amz-Content-Sha256"
)
MAX_BODY_BYTES = 1024 * 1024
NOT_FOUND = {"errors": [{"errorType": "NotFound", "message": "POST GraphQL requests to /graphql"}]}
TOO_LARGE = {"errors": [{"errorType": "PayloadTooLarge", "message": "request body over 1 MiB"}]}


def _json(
    request: Request, status: int, body: Any | None, background: BackgroundTask | None = None
) -> Response:
    """Every answer carries CORS headers, errors included: a browser reads a 401 only with them.

    `background` runs once the body has been written to the socket."""
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("origin") or "*",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
    if body is None:
        return Response(b"", status, headers)
    return Response(
        json.dumps(body).encode(),
        status,
        headers,
        media_type="application/json; charset=UTF-8",
        background=background,
    )


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is over the limit (declared or streamed: chunked bodies are counted)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def is_loopback(host: str) -> bool:
    """Whether a host name or address (no port) is this machine's loopback: `localhost`, 127/8, ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(authority: str) -> str:
    """`127.0.0.1:8787` → `127.0.0.1`, `[::1]:8787` → `::1`, `localhost` → `localhost`."""
    if authority.startswith("["):
        return authority[1 : authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


class LoopbackGuard:
    """Refuses HTTP requests and WebSocket handshakes whose `Host` or `Origin` is not a loopback address.

    A page on any site can make a browser send requests to 127.0.0.1, and a DNS name that resolves to
    127.0.0.1 (DNS rebinding) makes them same-origin: checking that the `Host` names the loopback, and
    that an `Origin`, when sent, is a page served from the loopback (the web page's dev server, pages the
    local stack serves) keeps other sites out. `extra_hosts` admits more names (`serve --allow-non-loopback`).
    """

    def __init__(self, app: ASGIApp, extra_hosts: Collection[str] = ()) -> None:
        self.app = app
        self.extra_hosts = frozenset(host.strip("[]").lower() for host in extra_hosts)

    def _allowed(self, host: str) -> bool:
        return is_loopback(host) or host.strip("[]").lower() in self.extra_hosts

    def refusal(self, headers: dict[str, str]) -> str | None:
        """Why a request with these (lower-case) headers is refused, or None."""
        host = headers.get("host")
        if host is None or not self._allowed(_host_of(host)):
            return f"Host {host!r} is not a loopback address: the local endpoint serves this machine only"
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or not self._allowed(parts.hostname)
            ):
                return f"Origin {origin!r} is not a page served from this machine's loopback address"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        reason = self.refusal(headers)
        if reason is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting (after the connect event) answers the handshake with HTTP 403.
            await receive()
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            return
        # AppSync's shape for a refused request; no CORS headers, so a foreign page cannot read it.
        body = json.dumps({"errors": [{"errorType": "ForbiddenException", "message": reason}]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json; charset=UTF-8")],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _publish(graphql: GraphQLApp, publications: list[Publication]) -> None:
    graphql.publish(publications)  # only queues them: fine on the event loop


def build_app(graphql: GraphQLApp, extra_routes: list[Any] | None = None) -> Starlette:
    """The ASGI app: `extra_routes` lets the real-time endpoint share the server (and its TLS)."""

    async def health(request: Request) -> Response:
        return _json(request, 200, {"status": "ok", "graphql": "/graphql"})

    async def preflight(request: Request) -> Response:
        return _json(request, 200, None)

    async def graphql_post(request: Request) -> Response:
        try:
            raw = await _read_body(request)
        except ClientDisconnect:
            return _json(request, 400, None)
        if raw is None:
            return _json(request, 413, TOO_LARGE)
        headers = {name.lower(): value for name, value in request.headers.items()}
        source_ip = request.client.host if request.client else "127.0.0.1"
        try:
            caller = authenticate(
                "POST", request.url.path, request.url.query, headers, raw, graphql.auth, source_ip
            )
        except AuthenticationError as exc:
            return _json(request, 401, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})
        try:
            payload = json.loads(raw)
            executed = await run_in_threadpool(graphql.execute, caller, headers, payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            error = {"errorType": "MalformedHttpRequestException", "message": str(exc)}
            return _json(request, 400, {"errors": [error]})
        except AppSyncError as exc:
            return _json(request, 400, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})
        # Publications go to the real-time hub only once the response is on the socket, so the fan-out
        # to subscribers never delays the mutation's answer.
        after = BackgroundTask(_publish, graphql, executed.publications) if executed.publications else None
        return _json(request, 200, executed.body, after)

    async def not_found(request: Request) -> Response:
        if request.method == "OPTIONS":
            return _json(request, 200, None)
        return _json(request, 404, NOT_FOUND)

    routes: list[Any] = [
        Route("/graphql", graphql_post, methods=["POST"]),
        Route("/graphql", preflight, methods=["OPTIONS"]),
        Route("/", health, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        *(extra_routes or []),
        Route("/{rest:path}", not_found, methods=["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"]),
    ]
    return Starlette(routes=routes)


class AppSyncServer:
    """uvicorn on its own thread and event loop; the socket is bound here, so port 0 works and a busy
    port fails in the caller."""

    def __init__(
        self,
        address: tuple[str, int],
        app: Starlette,
        *,
        scheme: str = "http",
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        extra_hosts: Collection[str] = (),
    ) -> None:
        # proto must be IPPROTO_TCP (not 0, what socket.create_server leaves): asyncio sets TCP_NODELAY
        # only on such sockets, and without it a response's headers and body (two writes) wait ~40 ms
        # for the client's delayed ACK.
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(address)
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.scheme = scheme
        config = uvicorn.Config(
            LoopbackGuard(app, extra_hosts),
            log_level="warning",
            access_log=False,  # AppSync logs go to CloudWatch; keep the endpoint's stderr for resolvers
            lifespan="off",
            http="httptools",  # the C parser; h11 (pure Python) adds ~1 ms per request
            ws="websockets-sansio",
            # No permessage-deflate: a publication goes to every subscriber, and compressing it once per
            # connection (zlib keeps a context per socket) would be most of the fan-out's CPU.
            ws_per_message_deflate=False,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            # A stop waits this long for open requests and sockets, then closes them.
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"{self.scheme}://{host}:{port}/graphql"

    def start_background(
        self, on_loop: Callable[[asyncio.AbstractEventLoop], Awaitable[None]] | None = None
    ) -> None:
        """Serve on a daemon thread; returns once the server accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            if on_loop is not None:
                await on_loop(self.loop)
            task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
            while not self._server.started and not task.done():
                await asyncio.sleep(0.005)
            ready.set()
            await task

        def run() -> None:
            try:
                asyncio.run(serve())
            except BaseException as exc:  # reported to the starter, which re-raises it
                failure.append(exc)
            finally:
                ready.set()

        self._thread = threading.Thread(target=run, name="appsync-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        if not self._server.started:
            raise RuntimeError("the AppSync server stopped during start-up")

    def shutdown(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
