"""The HTTP side: POST /graphql with AppSync's auth, CORS and response shape.

Errors look like AppSync's: `{"path", "data": null, "errorType", "errorInfo", "locations", "message"}`;
requests without valid credentials get HTTP 401 before anything runs.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)

from devstack.appsync.auth import AuthConfig, Caller, allowed_modes, authenticate
from devstack.appsync.errors import AppSyncError, AuthenticationError, UnauthorizedFieldError
from devstack.appsync.manifest import Manifest, ResolverDef
from devstack.appsync.pipeline import Executor, Invocation

ALLOWED_HEADERS = (
    "Content-Type, X-Api-Key, Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-User-Agent, "
    "X-Amz-Content-Sha256"
)
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class RequestContext:
    """What field resolvers need about the HTTP request."""

    caller: Caller
    headers: dict[str, str]
    variables: dict[str, Any]
    appended: list[tuple[list[str | int], dict[str, Any]]]


def _selection_list(info: GraphQLResolveInfo[Any]) -> list[str]:
    names: list[str] = []

    def walk(nodes: Any, prefix: str) -> None:
        for node in nodes or ():
            if isinstance(node, FieldNode) and node.name.value != "__typename":
                path = prefix + node.name.value
                names.append(path)
                if node.selection_set:
                    walk(node.selection_set.selections, path + "/")

    for field_node in info.field_nodes:
        if field_node.selection_set:
            walk(field_node.selection_set.selections, "")
    return names


def _field_resolver(executor: Executor, resolver: ResolverDef, env: dict[str, str]) -> Any:
    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        request: RequestContext = info.context
        call = Invocation(
            arguments=arguments,
            identity=request.caller.identity,
            source=source,
            info={
                "fieldName": info.field_name,
                "parentTypeName": info.parent_type.name,
                "variables": request.variables,
                "selectionSetList": _selection_list(info),
            },
            request={"headers": request.headers, "domainName": None},
            env=env,
            auth_type=request.caller.auth_type,
        )
        try:
            return executor.resolve(resolver, call)
        finally:
            path = list(info.path.as_list())
            request.appended.extend((path, error) for error in call.appended_errors)

    return resolve


def _auth_middleware(next_: Any, root: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
    parent = info.parent_type
    field_def = parent.fields.get(info.field_name)
    # Introspection (`__schema`, `__typename`...) is open to every authenticated caller, as on AppSync.
    if field_def is None or parent.name.startswith("__"):
        return next_(root, info, **arguments)
    if info.context.caller.mode not in allowed_modes(parent, field_def):
        raise UnauthorizedFieldError(info.field_name, parent.name)
    return next_(root, info, **arguments)


def install_resolvers(
    schema: GraphQLSchema, manifest: Manifest, executor: Executor, env: dict[str, str]
) -> None:
    for resolver in manifest.resolvers:
        parent = schema.get_type(resolver.type_name)
        if not isinstance(parent, GraphQLObjectType) or resolver.field not in parent.fields:
            raise ValueError(
                f"manifest resolves {resolver.type_name}.{resolver.field}, which the schema lacks"
            )
        parent.fields[resolver.field].resolve = _field_resolver(executor, resolver, env)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One error in AppSync's shape."""
    original = error.original_error
    out: dict[str, Any] = {
        "path": error.path,
        "data": None,
        "errorType": None,
        "errorInfo": None,
        "locations": [
            {"line": loc.line, "column": loc.column, "sourceName": None} for loc in (error.locations or [])
        ],
        "message": error.message,
    }
    if isinstance(original, AppSyncError):
        out.update(errorType=original.error_type, data=original.data, errorInfo=original.error_info)
    elif original is not None:
        out.update(errorType="InternalFailure", message=f"{type(original).__name__}: {original}")
    return out


class GraphQLApp:
    """Executes GraphQL requests against the schema with the installed resolvers."""

    def __init__(self, schema: GraphQLSchema, auth: AuthConfig) -> None:
        self.schema = schema
        self.auth = auth

    def run(self, caller: Caller, headers: dict[str, str], payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise AppSyncError(
                "The body must be a JSON object with a query string", "MalformedHttpRequestException"
            )
        variables = payload.get("variables") or {}
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return {"data": None, "errors": [format_error(error)]}
        problems = validate(self.schema, document)
        if problems:
            return {"data": None, "errors": [format_error(e) for e in problems]}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(op.operation == OperationType.SUBSCRIPTION for op in operations):
            message = (
                "Subscriptions are not supported by the local AppSync endpoint: they need AppSync's "
                "WebSocket protocol over TLS (devstack/appsync/README.md)"
            )
            return {"data": None, "errors": [{"errorType": "UnsupportedOperation", "message": message}]}
        context = RequestContext(caller, headers, variables, [])
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=payload.get("operationName"),
            middleware=[_auth_middleware],
        )
        assert isinstance(result, ExecutionResult)  # every resolver is synchronous
        body: dict[str, Any] = {"data": result.data}
        errors = [format_error(e) for e in result.errors or []]
        for path, appended in context.appended:
            errors.append({"path": path, "locations": [], **appended})
        if errors:
            body["errors"] = errors
        return body


class _Handler(BaseHTTPRequestHandler):
    server: AppSyncHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle's delay: otherwise every keep-alive response
    # waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:  # quiet; AppSync logs go to CloudWatch
        return

    def _send(self, status: int, body: Any | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Vary", "Origin")
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:
        self._send(200, None)

    def do_GET(self) -> None:
        if urlsplit(self.path).path in {"/", "/health"}:
            self._send(200, {"status": "ok", "graphql": "/graphql"})
        else:
            self._send(
                404, {"errors": [{"errorType": "NotFound", "message": "POST GraphQL requests to /graphql"}]}
            )

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/graphql":
            self._send(
                404, {"errors": [{"errorType": "NotFound", "message": "POST GraphQL requests to /graphql"}]}
            )
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(
                413, {"errors": [{"errorType": "PayloadTooLarge", "message": "request body over 1 MiB"}]}
            )
            return
        raw = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        app = self.server.app
        try:
            caller = authenticate("POST", url.path, url.query, headers, raw, app.auth, self.client_address[0])
        except AuthenticationError as exc:
            self._send(401, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})
            return
        try:
            payload = json.loads(raw)
            self._send(200, app.run(caller, headers, payload))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._send(400, {"errors": [{"errorType": "MalformedHttpRequestException", "message": str(exc)}]})
        except AppSyncError as exc:
            self._send(400, {"errors": [{"errorType": exc.error_type, "message": exc.message}]})


class AppSyncHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: GraphQLApp) -> None:
        super().__init__(address, _Handler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/graphql"

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="appsync-http", daemon=True)
        thread.start()
        return thread
