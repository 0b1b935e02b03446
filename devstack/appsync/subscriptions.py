"""What a subscriber receives when an `@aws_subscribe` mutation publishes (transport-free, synchronous).

AppSync's rules reproduced (devstack/appsync/README.md, "Real-time"); what is published: publish.py.

* a subscriber whose subscription arguments are all null or equal to the same-named fields of the
  result receives it;
* the result carries only the fields the mutation selected: the subscriber's own selection set runs
  over it, so fields the mutation did not select arrive null, and a non-null one is an error;
* the subscriber's auth mode is checked on every field it selects (`@aws_*` rules, as for queries).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    execute,
)

from devstack.appsync.auth import Caller
from devstack.appsync.execution import RequestContext, auth_middleware, format_error


class _Probe(Exception):
    """Raised by the probe resolver to carry the root field's coerced arguments out of execution."""

    def __init__(self, field: str, arguments: dict[str, Any]) -> None:
        self.field = field
        self.arguments = arguments


@dataclass(frozen=True)
class Subscribed:
    """A subscription that passed validation and auth: its root field and coerced arguments."""

    field: str
    arguments: dict[str, Any]


def probe(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    caller: Caller,
) -> Subscribed | list[dict[str, Any]]:
    """Check a subscription the way its start is checked: variables and the root field's auth.

    Returns the root field and its arguments, or AppSync-shaped errors. graphql-core does the variable
    coercion and the auth middleware the auth check; the root resolver stops execution by raising.
    """

    def resolver(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return None

    def stop(next_: Any, root: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        if info.parent_type is schema.subscription_type:
            # The field's own resolver (the manifest's, if any) runs first: its error refuses the start.
            next_(root, info, **arguments)
            raise _Probe(info.field_name, arguments)
        return next_(root, info, **arguments)

    context = RequestContext(caller, {}, dict(variables), [])
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=dict(variables),
        operation_name=operation_name,
        field_resolver=resolver,
        middleware=[auth_middleware, stop],
    )
    assert isinstance(result, ExecutionResult)
    for error in result.errors or []:
        if isinstance(error.original_error, _Probe):
            return Subscribed(error.original_error.field, error.original_error.arguments)
    return [format_error(e) for e in result.errors or []] or [
        {"errorType": "UnsupportedOperation", "message": "the operation selects no subscription field"}
    ]


def matches(arguments: Mapping[str, Any], payload: Any) -> bool:
    """AppSync's argument filter: every non-null argument equals the result's field of that name."""
    if not isinstance(payload, dict):
        return False
    for name, wanted in arguments.items():
        if wanted is None:
            continue
        if name not in payload or _canonical(payload[name]) != _canonical(wanted):
            return False
    return True


def _canonical(value: Any) -> str:
    # IDs arrive as strings on one side and maybe numbers on the other; AppSync compares their text.
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def render(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    caller: Caller,
    field: str,
    payload: Any,
) -> dict[str, Any]:
    """The `payload` of a `data` message: the subscriber's selection over the published result."""

    def published(next_: Any, root: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        if info.parent_type is schema.subscription_type:
            return payload  # the publication itself: a subscription resolver runs at subscribe time only
        return next_(root, info, **arguments)

    context = RequestContext(caller, {}, dict(variables), [])
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=dict(variables),
        operation_name=operation_name,
        middleware=[auth_middleware, published],
    )
    assert isinstance(result, ExecutionResult)  # no resolver below a subscription field here
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    return body


def graphql_errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [format_error(e) for e in errors]
