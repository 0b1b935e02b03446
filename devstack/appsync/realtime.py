"""AppSync's real-time WebSocket protocol at `wss://<host>/graphql/realtime` (where Amplify v6 looks).

Protocol (AppSync's "Building a real-time WebSocket client" page; Amplify's AWSWebSocketProvider):

* handshake with subprotocol `graphql-ws`; the connect-time auth header is the base64 JSON of the
  `header` query parameter (with `payload`, base64 `{}`), or a second subprotocol
  `header-<base64url JSON>` (Amplify v6). IAM signs `POST <graphql url>/connect` with body `{}`;
* `connection_init` → `connection_ack` `{connectionTimeoutMs}`, then `ka` every keep-alive interval;
  bad connect credentials → `connection_error` (`UnauthorizedException`, `errorCode` 401) and close;
* `start` `{id, payload: {data: "<JSON query, variables>", extensions: {authorization: {...}}}}` →
  `start_ack`, then `data` for each matching publication; a start that fails → `error` with its id.
  IAM signs the start's `data` string as the body of `POST <graphql url>`;
* `stop` → `complete`; anything else → `error` (`UnsupportedOperation`), and the socket stays open.

Publications are handed over once the mutation's response is on its socket (server.py), and
`RealtimeHub.publish` only queues them. One dispatcher task takes them in order: in the thread pool it
matches them to subscriptions and renders each distinct (operation, variables, auth mode) once, then on
the loop it puts the frames in per-connection queues of bounded size, a slice per turn of the loop so
that requests arriving meanwhile are served between slices. Each connection's writer task sends its own
queue; a connection whose queue is full (it stopped reading) is dropped: a mutation never waits for a
subscriber.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationType, parse, print_ast, validate
from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from devstack.appsync.auth import Caller, authenticate
from devstack.appsync.errors import AuthenticationError
from devstack.appsync.execution import GraphQLApp, format_error
from devstack.appsync.publish import Publication, operation_of
from devstack.appsync.subscriptions import Subscribed, matches, probe, render

SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL_PREFIX = "header-"
GRAPHQL_PATH = "/graphql"  # the HTTP path whose `/connect` IAM callers sign at connect time
CONNECTION_TIMEOUT_MS = 300_000  # what AppSync's connection_ack announces
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100
UNSUPPORTED = "unknown not supported through the realtime channel"  # AppSync's words for unknown types
FANOUT_SLICE = 16  # frames queued per turn of the event loop during a fan-out


@dataclass(frozen=True)
class RealtimeConfig:
    keepalive_s: float = 60.0  # interval between `ka` messages (tests shorten it)
    queue_frames: int = 1000  # frames waiting for one connection; more and it is dropped as too slow
    init_timeout_s: float = 10.0  # how long a connection with bad credentials waits for its init
    close_timeout_s: float = 1.0  # how long a dropped connection's close frame may take


def _error(errors: list[dict[str, Any]], subscription_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "error", "payload": {"errors": errors}}
    if subscription_id is not None:
        message["id"] = subscription_id
    return message


def _bad(message: str) -> dict[str, Any]:
    return {"errorType": "BadRequestException", "message": message}


def _unauthorized(exc: AuthenticationError) -> dict[str, Any]:
    return {"errorType": exc.error_type, "message": exc.message, "errorCode": 401}


def _decode_header(text: str) -> dict[str, str]:
    """A base64 or base64url JSON object (padding optional; a query string may have turned + into space)."""
    cleaned = text.strip().replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        decoded = json.loads(base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise AuthenticationError("The connection header is not base64-encoded JSON") from exc
    if not isinstance(decoded, dict):
        raise AuthenticationError("The connection header must be a JSON object")
    return {str(key).lower(): str(value) for key, value in decoded.items()}


def _lower(headers: Any) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        raise AuthenticationError("Valid authorization header not provided.")
    return {str(key).lower(): str(value) for key, value in headers.items()}


@dataclass(eq=False)
class _Subscription:
    id: str
    connection: _Connection
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any]
    caller: Caller
    field: str
    arguments: dict[str, Any]
    render_key: str  # subscribers with the same key see the same rendering of a publication


@dataclass(eq=False)
class _Connection:
    websocket: WebSocket
    outbox: asyncio.Queue[str]
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    keepalive: asyncio.Task[None] | None = None

    def send(self, message: dict[str, Any]) -> None:
        self.send_frame(json.dumps(message))

    def send_frame(self, frame: str) -> None:
        """Queue a frame; a connection that has let its queue fill up is dropped, never waited for."""
        if self.dropped.is_set():
            return
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped.set()


class RealtimeHub:
    """The subscriptions of every connection, and the dispatch of publications to them."""

    def __init__(self, graphql: GraphQLApp, config: RealtimeConfig | None = None) -> None:
        self.graphql = graphql
        self.config = config or RealtimeConfig()
        self.by_field: dict[str, set[_Subscription]] = {}
        self.dropped_connections = 0  # connections dropped for not reading (diagnostics, tests)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._publications: asyncio.Queue[list[Publication]] | None = None
        self._dispatcher: asyncio.Task[None] | None = None

    @property
    def routes(self) -> list[WebSocketRoute]:
        # /graphql/realtime is what Amplify derives for a custom domain; /graphql is where AppSync's
        # own real-time host takes the `header`/`payload` query parameters.
        return [
            WebSocketRoute(f"{GRAPHQL_PATH}/realtime", self.endpoint),
            WebSocketRoute(GRAPHQL_PATH, self.endpoint),
        ]

    async def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on the server's loop before it serves."""
        self._loop = loop
        self._publications = asyncio.Queue()
        self._dispatcher = asyncio.create_task(self._dispatch())

    def publish(self, publications: list[Publication]) -> None:
        """From any thread; returns at once (the dispatcher does the rest on the loop)."""
        loop, queue = self._loop, self._publications
        if loop is None or queue is None:
            return
        # RuntimeError: the loop has stopped, the endpoint is shutting down and nobody is subscribed.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, publications)

    # -- dispatch -----------------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        assert self._publications is not None
        while True:
            publications = await self._publications.get()
            try:
                await self._deliver(publications)
            except Exception as exc:  # a bug here must not stop every later delivery
                print(f"realtime: delivery failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    async def _deliver(self, publications: list[Publication]) -> None:
        # The subscribers are read here, on the loop that changes them; matching, rendering and framing
        # are CPU work for the thread pool, so the loop keeps serving requests meanwhile.
        candidates = [
            (index, publication, tuple(self.by_field.get(field_name, ())))
            for index, publication in enumerate(publications)
            for field_name in self.graphql.targets.get(publication.mutation, ())
        ]
        if not any(subscribers for _, _, subscribers in candidates):
            return
        frames = await run_in_threadpool(self._frames, candidates)
        # A slice per turn of the loop: a request that arrives during a large fan-out waits for one
        # slice to be queued, not for the whole of it.
        for start in range(0, len(frames), FANOUT_SLICE):
            if start:
                await asyncio.sleep(0)
            for subscription, frame in frames[start : start + FANOUT_SLICE]:
                if subscription.connection.subscriptions.get(subscription.id) is subscription:  # not stopped
                    subscription.connection.send_frame(frame)

    def _frames(
        self, candidates: list[tuple[int, Publication, tuple[_Subscription, ...]]]
    ) -> list[tuple[_Subscription, str]]:
        """Each matching subscriber's `data` frame; each distinct (publication, render key) rendered once."""
        rendered: dict[tuple[int, str], str] = {}
        frames = []
        for index, publication, subscribers in candidates:
            for subscription in subscribers:
                if not matches(subscription.arguments, publication.payload):
                    continue
                key = (index, subscription.render_key)
                if key not in rendered:
                    body = render(
                        self.graphql.schema,
                        subscription.document,
                        subscription.operation_name,
                        subscription.variables,
                        subscription.caller,
                        subscription.field,
                        publication.payload,
                    )
                    rendered[key] = json.dumps(body)
                frame = f'{{"type":"data","id":{json.dumps(subscription.id)},"payload":{rendered[key]}}}'
                frames.append((subscription, frame))
        return frames

    # -- one connection -----------------------------------------------------------------------------

    def _connect_caller(self, websocket: WebSocket) -> Caller:
        """The connect-time auth header (query parameters or `header-` subprotocol), verified."""
        params = websocket.query_params
        body = b"{}"
        if "header" in params:
            header = _decode_header(params["header"])
            if params.get("payload"):
                body = base64.b64decode(_pad(params["payload"]), validate=False)
        else:
            offered = [
                p for p in websocket.scope.get("subprotocols", []) if p.startswith(HEADER_SUBPROTOCOL_PREFIX)
            ]
            if not offered:
                raise AuthenticationError("Valid authorization header not provided.")
            header = _decode_header(offered[0].removeprefix(HEADER_SUBPROTOCOL_PREFIX))
        source_ip = websocket.client.host if websocket.client else "127.0.0.1"
        return authenticate("POST", f"{GRAPHQL_PATH}/connect", "", header, body, self.graphql.auth, source_ip)

    async def endpoint(self, websocket: WebSocket) -> None:
        if SUBPROTOCOL not in websocket.scope.get("subprotocols", []):
            await websocket.close()  # before accept: the handshake is refused (HTTP 403)
            return
        try:
            self._connect_caller(websocket)
            refused: AuthenticationError | None = None
        except AuthenticationError as exc:
            refused = exc
        await websocket.accept(subprotocol=SUBPROTOCOL)
        connection = _Connection(websocket, asyncio.Queue(self.config.queue_frames))
        writer = asyncio.create_task(self._write(connection))
        try:
            if refused is not None:
                await self._refuse(connection, refused)
            else:
                await self._read(connection)
        finally:
            self._forget(connection)
            if connection.keepalive is not None:
                connection.keepalive.cancel()
            if connection.dropped.is_set() and refused is None:
                self.dropped_connections += 1
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await self._close(websocket, 1013 if connection.dropped.is_set() and refused is None else 1000)

    async def _refuse(self, connection: _Connection, refused: AuthenticationError) -> None:
        """Bad connect credentials: answer the client's first message (its init) with connection_error.

        Sending it before the client listens would race Amplify, which attaches its handler after open.
        """
        try:
            await asyncio.wait_for(connection.websocket.receive(), self.config.init_timeout_s)
        except TimeoutError:
            return
        connection.send({"type": "connection_error", "payload": {"errors": [_unauthorized(refused)]}})
        await self._flush(connection)

    async def _flush(self, connection: _Connection) -> None:
        deadline = asyncio.get_running_loop().time() + self.config.close_timeout_s
        while not connection.outbox.empty() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)

    async def _close(self, websocket: WebSocket, code: int) -> None:
        # A peer that stopped reading never takes the close frame: do not wait for it for long.
        with contextlib.suppress(TimeoutError, RuntimeError, WebSocketDisconnect, OSError):
            await asyncio.wait_for(websocket.close(code), self.config.close_timeout_s)

    async def _write(self, connection: _Connection) -> None:
        try:
            while True:
                frame = await connection.outbox.get()
                await connection.websocket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            connection.dropped.set()

    async def _keepalive(self, connection: _Connection) -> None:
        while True:
            await asyncio.sleep(self.config.keepalive_s)
            connection.send({"type": "ka"})

    async def _read(self, connection: _Connection) -> None:
        dropped = asyncio.create_task(connection.dropped.wait())
        try:
            while True:
                receive = asyncio.create_task(connection.websocket.receive())
                done, _ = await asyncio.wait({receive, dropped}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    return
                message = receive.result()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                await self._handle(connection, text)
        finally:
            dropped.cancel()

    async def _handle(self, connection: _Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError as exc:
            connection.send(_error([_bad(f"Malformed message: {exc}")]))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            connection.send(
                {"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}}
            )
            self._start_keepalive(connection)
        elif kind == "start":
            self._start_keepalive(connection)  # connection_init is optional (AppSync's protocol page)
            await self._start(connection, message)
        elif kind == "stop":
            subscription_id = message.get("id")
            if isinstance(subscription_id, str):
                self._stop(connection, subscription_id)
                connection.send({"type": "complete", "id": subscription_id})
            else:
                connection.send(_error([_bad("stop needs an id")]))
        else:
            connection.send(_error([{"errorType": "UnsupportedOperation", "message": UNSUPPORTED}]))

    def _start_keepalive(self, connection: _Connection) -> None:
        if connection.keepalive is None:
            connection.keepalive = asyncio.create_task(self._keepalive(connection))

    async def _start(self, connection: _Connection, message: dict[str, Any]) -> None:
        subscription_id = message.get("id")
        if not isinstance(subscription_id, str) or not subscription_id:
            connection.send(_error([_bad("start needs an id")]))
            return
        if subscription_id in connection.subscriptions:
            error = {
                "errorType": "BadRequestException",
                "message": f"subscription {subscription_id} already started",
            }
            connection.send(_error([error], subscription_id))
            return
        if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
            error = {
                "errorType": "MaxSubscriptionsReachedError",
                "message": f"at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection",
            }
            connection.send(_error([error], subscription_id))
            return
        source_ip = connection.websocket.client.host if connection.websocket.client else "127.0.0.1"
        checked = await run_in_threadpool(self._check_start, message.get("payload"), source_ip)
        if isinstance(checked, list):
            connection.send(_error(checked, subscription_id))
            return
        document, operation_name, variables, caller, subscribed, render_key = checked
        subscription = _Subscription(
            subscription_id,
            connection,
            document,
            operation_name,
            variables,
            caller,
            subscribed.field,
            subscribed.arguments,
            render_key,
        )
        connection.subscriptions[subscription_id] = subscription
        self.by_field.setdefault(subscribed.field, set()).add(subscription)
        connection.send({"type": "start_ack", "id": subscription_id})

    def _check_start(
        self, payload: Any, source_ip: str
    ) -> tuple[DocumentNode, str | None, dict[str, Any], Caller, Subscribed, str] | list[dict[str, Any]]:
        """Auth, parse, validation and the subscription field's own auth (thread pool: it is CPU work)."""
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), str):
            return [_bad("start needs payload.data, a JSON string")]
        extensions = payload.get("extensions")
        authorization = extensions.get("authorization") if isinstance(extensions, dict) else None
        try:
            headers = _lower(authorization)
            caller = authenticate(
                "POST", GRAPHQL_PATH, "", headers, payload["data"].encode(), self.graphql.auth, source_ip
            )
        except AuthenticationError as exc:
            return [_unauthorized(exc)]
        try:
            request = json.loads(payload["data"])
        except ValueError as exc:
            return [_bad(f"payload.data is not JSON: {exc}")]
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return [_bad("payload.data needs a query string")]
        variables = request.get("variables") or {}
        operation_name = request.get("operationName")
        if not isinstance(variables, dict) or not (operation_name is None or isinstance(operation_name, str)):
            return [_bad("variables must be an object")]
        try:
            document = parse(request["query"])
        except GraphQLError as error:
            return [format_error(error)]
        problems = validate(self.graphql.schema, document)
        if problems:
            return [format_error(problem) for problem in problems]
        operation = operation_of(document, operation_name)
        if operation is None:
            return [_bad("name the operation to run (operationName)")]
        if operation.operation != OperationType.SUBSCRIPTION:
            kind = operation.operation.value
            return [
                {
                    "errorType": "UnsupportedOperation",
                    "message": f"{kind} not supported through the realtime channel",
                }
            ]
        subscribed = probe(self.graphql.schema, document, operation_name, variables, caller)
        if isinstance(subscribed, list):
            return subscribed
        # Field auth depends on the mode only (cognito_groups are not checked), so subscribers with the
        # same operation, variables and mode see the same rendering of a publication. The document is
        # printed back so that spacing, commas and comments do not split a group.
        render_key = json.dumps([print_ast(document), operation_name, variables, caller.mode], sort_keys=True)
        return document, operation_name, variables, caller, subscribed, render_key

    def _stop(self, connection: _Connection, subscription_id: str) -> None:
        subscription = connection.subscriptions.pop(subscription_id, None)
        if subscription is not None:
            self.by_field.get(subscription.field, set()).discard(subscription)

    def _forget(self, connection: _Connection) -> None:
        for subscription_id in list(connection.subscriptions):
            self._stop(connection, subscription_id)


def _pad(text: str) -> str:
    cleaned = text.strip().replace(" ", "+")
    return cleaned + "=" * (-len(cleaned) % 4)
