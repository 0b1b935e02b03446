"""Errors of the stack client.

Our exception hierarchy:

* StackClientError           — base: a stack cannot be found, reached or written
  * StackNotFoundError       — no `.dev/stack.json` / Terraform outputs where we were told to look
  * StackConfigError         — a stack description lacks a key or holds a malformed value
  * GraphQLClientError       — a GraphQL request failed (HTTP error, an answer that is not JSON)
    * EndpointUnreachable    — no connection to the GraphQL endpoint (the stack is down, or the URL is wrong)
    * GraphQLError           — the API answered with errors; `error_type` is AppSync's `errorType`
  * SeedError                — seeding cannot go on (the endpoint refuses every write)
"""

from __future__ import annotations

from typing import Any


class StackClientError(RuntimeError):
    """Base class of every error this package raises."""


class StackNotFoundError(StackClientError):
    """No stack description where we were told to look."""


class StackConfigError(StackClientError):
    """A stack description lacks a required key or holds a malformed value."""


class GraphQLClientError(StackClientError):
    """Base of the GraphQL client's errors."""


class EndpointUnreachable(GraphQLClientError):
    """No connection to the GraphQL endpoint (the stack is down, or the URL is wrong)."""


class GraphQLError(GraphQLClientError):
    """The API answered with errors; `error_type` is AppSync's `errorType` of the first one."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0] if errors else {}
        self.error_type: str = str(first.get("errorType") or "GraphQLError")
        super().__init__(f"{self.error_type}: {first.get('message', errors)}")


class SeedError(StackClientError):
    """Seeding cannot go on (the endpoint is unreachable, or refuses every write)."""
