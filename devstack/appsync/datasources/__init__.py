"""Data sources: what a resolver's request object is sent to. Each returns an Outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Outcome:
    """What the response handler sees: `ctx.result` and `ctx.error` (`{message, type}` or None)."""

    result: Any = None
    error: dict[str, Any] | None = None


class DataSource(Protocol):
    def invoke(self, request: Any) -> Outcome: ...


class NoneDataSource:
    """AppSync's NONE data source: `ctx.result` is the request's `payload`."""

    def invoke(self, request: Any) -> Outcome:
        return Outcome(result=request.get("payload") if isinstance(request, dict) else None)
