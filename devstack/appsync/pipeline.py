"""Runs one resolver the way AppSync does: unit (request → data source → response) or pipeline
(resolver request → each function's request → data source → response → resolver response), with
`ctx.stash`, `ctx.prev.result`, `runtime.earlyReturn`, `util.error` and `util.appendError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.appsync.datasources import DataSource
from devstack.appsync.errors import AppSyncError
from devstack.appsync.manifest import ResolverDef
from devstack.appsync.worker import NodeWorker


@dataclass
class Invocation:
    """The per-field context: what `ctx` holds, and errors appended along the way."""

    arguments: dict[str, Any]
    identity: dict[str, Any] | None
    source: Any
    info: dict[str, Any]
    request: dict[str, Any]
    env: dict[str, str]
    auth_type: str
    stash: dict[str, Any] = field(default_factory=dict)
    appended_errors: list[dict[str, Any]] = field(default_factory=list)

    def ctx(self, **extra: Any) -> dict[str, Any]:
        return {
            "arguments": self.arguments,
            "identity": self.identity,
            "source": self.source,
            "info": self.info,
            "request": self.request,
            "env": self.env,
            "stash": self.stash,
            **extra,
        }


class _EarlyReturn(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Executor:
    """Runs manifest resolvers on a worker against named data sources."""

    def __init__(self, worker: NodeWorker, data_sources: dict[str, DataSource]) -> None:
        self._worker = worker
        self._data_sources = data_sources

    def _handler(self, file: Path, handler: str, call: Invocation, **extra: Any) -> Any:
        answer = self._worker.call(file, handler, call.ctx(**extra), call.auth_type, _unauthorized(call))
        call.stash = answer.get("stash") or {}
        call.appended_errors.extend(answer.get("appendedErrors") or [])
        outcome = answer["outcome"]
        if outcome == "value":
            return answer.get("value")
        if outcome == "earlyReturn":
            raise _EarlyReturn(answer.get("value"))
        error = answer.get("error") or {}
        if outcome == "error":
            raise AppSyncError(
                error.get("message", ""), error.get("errorType"), error.get("data"), error.get("errorInfo")
            )
        # An exception the resolver code did not mean to throw (TypeError, a missing util...).
        raise AppSyncError(f"{file.name} {handler}: {error.get('message')}", "Code")

    def _step(self, file: Path, data_source: str, call: Invocation, prev: Any) -> Any:
        """request → data source → response of one unit resolver or pipeline function."""
        try:
            request = self._handler(file, "request", call, prev={"result": prev})
        except _EarlyReturn as early:
            return early.value
        outcome = self._data_sources[data_source].invoke(request)
        try:
            return self._handler(
                file, "response", call, prev={"result": prev}, result=outcome.result, error=outcome.error
            )
        except _EarlyReturn as early:
            return early.value

    def resolve(self, resolver: ResolverDef, call: Invocation) -> Any:
        if resolver.kind == "UNIT":
            assert resolver.data_source is not None
            return self._step(resolver.file, resolver.data_source, call, None)
        prev: Any = None
        try:
            prev = self._handler(resolver.file, "request", call, prev={"result": None})
            for function in resolver.functions:
                prev = self._step(function.file, function.data_source, call, prev)
        except _EarlyReturn as early:
            prev = early.value  # skip the functions; the resolver's response handler still runs
        try:
            return self._handler(resolver.file, "response", call, prev={"result": prev})
        except _EarlyReturn as early:
            return early.value


def _unauthorized(call: Invocation) -> str:
    return f"Not Authorized to access {call.info.get('fieldName')} on type {call.info.get('parentTypeName')}"
