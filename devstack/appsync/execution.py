"""GraphQL execution with AppSync's rules: resolvers from the manifest, `@aws_*` field auth, error shape.

Transport-free: the HTTP server (server.py) and the real-time WebSocket endpoint both call into it.
Errors look like AppSync's: `{"path", "data": null, "errorType", "errorInfo", "locations", "message"}`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

from devstack.appsync.auth import AuthConfig, Caller, allowed_modes
from devstack.appsync.errors import AppSyncError, UnauthorizedFieldError
from devstack.appsync.manifest import Manifest, ResolverDef
from devstack.appsync.pipeline import Executor, Invocation
from devstack.appsync.publish import Publication, operation_of, publications, subscription_targets


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


def auth_middleware(next_: Any, root: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
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
        # A Subscription resolver runs when a client subscribes (subscriptions.probe), as on AppSync, where
        # an error it raises refuses the subscription; deliveries never call it (subscriptions.render).
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


Publisher = Callable[[list[Publication]], None]


@dataclass(frozen=True)
class Executed:
    """A request's response body, and what its mutation fields publish (empty for queries)."""

    body: dict[str, Any]
    publications: list[Publication]


class GraphQLApp:
    """Executes GraphQL requests against the schema with the installed resolvers.

    `publisher`, when set, receives what each mutation publishes to subscriptions (`@aws_subscribe`); it
    must return at once (the real-time endpoint only queues the publications for its event loop). The
    HTTP server calls `execute`, answers, and only then `publish`: a mutation's response never waits for
    its fan-out.
    """

    def __init__(self, schema: GraphQLSchema, auth: AuthConfig, publisher: Publisher | None = None) -> None:
        self.schema = schema
        self.auth = auth
        self.publisher = publisher
        self.targets = subscription_targets(schema)

    def run(self, caller: Caller, headers: dict[str, str], payload: Any) -> dict[str, Any]:
        """Execute and publish at once (for callers with no response to send first)."""
        executed = self.execute(caller, headers, payload)
        self.publish(executed.publications)
        return executed.body

    def publish(self, publications: list[Publication]) -> None:
        """Hand publications to the publisher. The write is done whatever happens to its publication: a
        failure here is logged, never the mutation's error."""
        if self.publisher is None or not publications:
            return
        try:
            self.publisher(publications)
        except Exception as exc:
            print(f"realtime: publishing failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def execute(self, caller: Caller, headers: dict[str, str], payload: Any) -> Executed:
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise AppSyncError(
                "The body must be a JSON object with a query string", "MalformedHttpRequestException"
            )
        variables = payload.get("variables") or {}
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return Executed({"data": None, "errors": [format_error(error)]}, [])
        problems = validate(self.schema, document)
        if problems:
            return Executed({"data": None, "errors": [format_error(e) for e in problems]}, [])
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(op.operation == OperationType.SUBSCRIPTION for op in operations):
            message = (
                "Subscriptions go through the real-time WebSocket endpoint (wss://<host>/graphql/realtime, "
                "AppSync's protocol: devstack/appsync/README.md), not HTTP POST"
            )
            unsupported = {"errorType": "UnsupportedOperation", "message": message}
            return Executed({"data": None, "errors": [unsupported]}, [])
        context = RequestContext(caller, headers, variables, [])
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=payload.get("operationName"),
            middleware=[auth_middleware],
        )
        assert isinstance(result, ExecutionResult)  # every resolver is synchronous
        published: list[Publication] = []
        operation = operation_of(document, payload.get("operationName"))
        if (
            self.publisher is not None
            and operation is not None
            and operation.operation == OperationType.MUTATION
        ):
            try:
                published = publications(document, operation, variables, result, self.targets)
            except Exception as exc:  # a bug here is logged, never the mutation's error
                print(
                    f"realtime: publishing failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True
                )
        body: dict[str, Any] = {"data": result.data}
        errors = [format_error(e) for e in result.errors or []]
        for path, appended in context.appended:
            errors.append({"path": path, "locations": [], **appended})
        if errors:
            body["errors"] = errors
        return Executed(body, published)
