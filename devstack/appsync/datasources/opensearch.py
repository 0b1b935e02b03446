"""AppSync's OpenSearch data source over HTTP (osmem locally).

Request objects are `{operation, path, params: {headers, queryString, body}}`; `ctx.result` is the
response body as JSON. A non-2xx answer becomes `ctx.error` (`type` "OpenSearch:<status>"), with the
body still in `ctx.result`. The data source's role may only read the read aliases (docs/design.md §7),
so anything but a GET/POST search or count on an allowed alias is refused, as IAM would refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import requests

from devstack.appsync.datasources import Outcome
from devstack.appsync.errors import AppSyncError

_OPERATIONS = {"GET", "POST", "PUT", "DELETE", "HEAD"}
_READ_ENDPOINTS = {"_search", "_count"}


class OpenSearchDataSource:
    """One AppSync OpenSearch data source."""

    def __init__(self, endpoint: str, readable_aliases: Iterable[str], timeout_s: float = 30.0) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._aliases = set(readable_aliases)
        self._timeout = timeout_s  # AppSync's execution limit
        self._session = requests.Session()

    def _allowed(self, operation: str, path: str) -> bool:
        parts = path.strip("/").split("/")
        return (
            operation in {"GET", "POST"}
            and len(parts) == 2
            and parts[0] in self._aliases
            and parts[1] in _READ_ENDPOINTS
        )

    def invoke(self, request: Any) -> Outcome:
        if (
            not isinstance(request, dict)
            or request.get("operation") not in _OPERATIONS
            or "path" not in request
        ):
            raise AppSyncError(
                "OpenSearch requests need operation (GET, POST, PUT, DELETE, HEAD) and path",
                "MappingTemplate",
            )
        unknown = set(request) - {"operation", "path", "params", "version"}
        if unknown:
            raise AppSyncError(f"OpenSearch request has unknown fields: {sorted(unknown)}", "MappingTemplate")
        operation, path = request["operation"], str(request["path"])
        if not path.startswith("/"):
            raise AppSyncError("OpenSearch request path must start with /", "MappingTemplate")
        if not self._allowed(operation, path):
            return Outcome(
                error={
                    "type": "OpenSearch:403",
                    "message": f"the search role may not {operation} {path} (read aliases only)",
                }
            )
        params = request.get("params") or {}
        body = params.get("body")
        try:
            response = self._session.request(
                operation,
                self._endpoint + path,
                params=params.get("queryString") or None,
                headers={"content-type": "application/json", **(params.get("headers") or {})},
                data=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            return Outcome(error={"type": "OpenSearch:Unreachable", "message": str(exc)})
        try:
            result = response.json() if response.content else None
        except ValueError:
            result = response.text
        if response.status_code >= 300:
            reason = result.get("error") if isinstance(result, dict) else None
            message = json.dumps(reason)[:500] if reason else f"HTTP {response.status_code}"
            return Outcome(
                result=result, error={"type": f"OpenSearch:{response.status_code}", "message": message}
            )
        return Outcome(result=result)
