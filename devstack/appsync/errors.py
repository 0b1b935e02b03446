"""Errors of the local AppSync endpoint.

Hierarchy:

* AppSyncError — a GraphQL error in AppSync's shape (`errorType`, `message`, `data`, `errorInfo`)
    + UnauthorizedFieldError — an auth directive denies the field (AppSync's `Unauthorized`)
* AuthenticationError — the request itself carries no valid credentials (HTTP 401)
* WorkerError — the Node resolver worker died or answered nonsense
"""

from __future__ import annotations

from typing import Any


class AppSyncError(Exception):
    """A field error reported the way AppSync reports it."""

    def __init__(
        self,
        message: str,
        error_type: str | None = None,
        data: Any = None,
        error_info: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.data = data
        self.error_info = error_info


class UnauthorizedFieldError(AppSyncError):
    """The caller's auth mode is not allowed on this field."""

    def __init__(self, field: str, type_name: str) -> None:
        super().__init__(f"Not Authorized to access {field} on type {type_name}", "Unauthorized")


class AuthenticationError(Exception):
    """No valid credentials: AppSync answers HTTP 401 before running anything."""

    def __init__(self, message: str, error_type: str = "UnauthorizedException") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


class WorkerError(RuntimeError):
    """The Node resolver worker failed."""
