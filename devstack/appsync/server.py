"""The endpoint's one server: uvicorn serving a Starlette app (`POST /graphql`, CORS, `GET /health`).

Requests without valid credentials get HTTP 401 before anything runs; bodies over 1 MiB get 413. GraphQL
execution is synchronous (the Node worker and the DynamoDB write lock are thread-bound), so it runs in
Starlette's thread pool and the event loop never waits on a resolver.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.appsync.auth import authenticate
from devstack.appsync.errors import AppSyncError, AuthenticationError
from devstack.appsync.execution import GraphQLApp

ALLOWED_HEADERS = (
    "Content-Type, X-Api-Key, Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent, "
    "X-Amz-Content-Sha256"
)
MAX_BODY_BYTES = 1024 * 1024
NOT_FOUND = {"errors": [{"errorType": "NotFound", "message": "POST GraphQL requests to /graphql"}]}
TOO_LARGE = {"errors": [{"errorType": "PayloadTooLarge", "message": "request body over 1 MiB"}]}


def _json(request: Request, status: int, body: Any | None) -> Response:
    """Every answer carries CORS headers, errors included: a browser reads a 401 only with them."""
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("origin") or "*",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
    if body is None:
        return Response(b"", status, headers)
    return Response(json.dumps(body).encode(), status, headers, media_type="application/json; charset=UTF-8")


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
            return _json(request, 200, await run_in_threadpool(graphql.run, caller, headers, payload))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            error = {"errorType": "MalformedHttpRequestException", "message": str(exc)}
            return _json(request, 400, {"errors": [error]})
        except AppSyncError as exc:
            return _json(request, 400, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})

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
            app,
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
