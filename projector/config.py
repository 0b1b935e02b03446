"""Projector configuration from environment variables, validated once (docs/design.md §5)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from projector.bulk import DEFAULT_MAX_ACTIONS, DEFAULT_MAX_BYTES
from projector.exceptions import ConfigError
from projector.signal import DEFAULT_BUDGET_MS
from projector.transport import AUTH_MODES

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
STREAM_RETENTION_HOURS = 24


@dataclass(frozen=True, slots=True)
class Config:
    opensearch_endpoint: str
    dead_letter_queue_url: str
    opensearch_auth: str = "sigv4"
    region: str | None = None
    bulk_max_bytes: int = DEFAULT_MAX_BYTES
    bulk_max_actions: int = DEFAULT_MAX_ACTIONS
    tombstone_retention_hours: float = 48.0
    log_item_contents: bool = False
    index_prefix: str = ""
    metrics_namespace: str = "appsync-cqrs"
    projection_signal_url: str | None = None
    """AppSync's GraphQL URL for publishListingProjected; None: the projection signal is off."""
    projection_signal_budget_ms: int = DEFAULT_BUDGET_MS
    projection_signal_ca_file: str | None = None
    """A CA bundle for the GraphQL URL's certificate (the local stack's own CA); None: the system's."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dead_letter_queue: bool = True) -> Config:
        """Read and validate every variable; raise one ConfigError naming every problem.

        ``dead_letter_queue=False`` (the tombstone purge, which never dead-letters) does not require
        ``DEAD_LETTER_QUEUE_URL``.
        """
        env = os.environ if env is None else env
        problems: list[str] = []

        def url(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                problems.append(f"{name} is required")
            elif urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
                problems.append(f"{name} must be an http(s) URL, got {value!r}")
            return value

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{name} must be an integer, got {raw!r}")
                return default
            if not low <= value <= high:
                problems.append(f"{name} must be between {low} and {high}, got {value}")
            return value

        endpoint = url("OPENSEARCH_ENDPOINT")
        dlq = url("DEAD_LETTER_QUEUE_URL") if dead_letter_queue else ""
        auth = env.get("OPENSEARCH_AUTH", "sigv4").strip() or "sigv4"
        if auth not in AUTH_MODES:
            problems.append(f"OPENSEARCH_AUTH must be one of {', '.join(AUTH_MODES)}, got {auth!r}")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        if auth != "none" and auth in AUTH_MODES and not region:
            problems.append(f"OPENSEARCH_AUTH={auth} needs AWS_REGION")
        max_bytes = integer("BULK_MAX_BYTES", DEFAULT_MAX_BYTES, 1024, 100 * 1024 * 1024)
        max_actions = integer("BULK_MAX_ACTIONS", DEFAULT_MAX_ACTIONS, 1, 10_000)
        retention_raw = env.get("TOMBSTONE_RETENTION_HOURS", "").strip()
        retention = 48.0
        if retention_raw:
            try:
                retention = float(retention_raw)
            except ValueError:
                problems.append(f"TOMBSTONE_RETENTION_HOURS must be a number, got {retention_raw!r}")
            else:
                if not retention > STREAM_RETENTION_HOURS:
                    problems.append(
                        f"TOMBSTONE_RETENTION_HOURS must be more than the {STREAM_RETENTION_HOURS} h stream "
                        f"retention (a purged tombstone must outlive every replay), got {retention_raw}"
                    )
        log_raw = env.get("LOG_ITEM_CONTENTS", "").strip().lower()
        if log_raw not in _TRUE + _FALSE:
            problems.append(f"LOG_ITEM_CONTENTS must be true or false, got {log_raw!r}")
        signal_url = env.get("PROJECTION_SIGNAL_URL", "").strip() or None
        if signal_url is not None:
            signal_url = url("PROJECTION_SIGNAL_URL")
            if not region:
                problems.append("PROJECTION_SIGNAL_URL needs AWS_REGION (requests are signed for appsync)")
        # At most 200 ms: the signal must never cost a batch more than that (projector/signal.py).
        budget_ms = integer("PROJECTION_SIGNAL_BUDGET_MS", DEFAULT_BUDGET_MS, 50, DEFAULT_BUDGET_MS)
        ca_file = env.get("PROJECTION_SIGNAL_CA_FILE", "").strip() or None
        if ca_file is not None and not os.path.isfile(ca_file):
            problems.append(f"PROJECTION_SIGNAL_CA_FILE must name a PEM file, got {ca_file!r}")
        prefix = env.get("INDEX_PREFIX", "").strip()
        if prefix != prefix.lower() or any(char in prefix for char in ' "*\\<|,>/?#:'):
            problems.append(f"INDEX_PREFIX must be a lower-case index-name prefix, got {prefix!r}")
        if problems:
            raise ConfigError(problems)
        return cls(
            opensearch_endpoint=endpoint,
            dead_letter_queue_url=dlq,
            opensearch_auth=auth,
            region=region,
            bulk_max_bytes=max_bytes,
            bulk_max_actions=max_actions,
            tombstone_retention_hours=retention,
            log_item_contents=log_raw in _TRUE,
            index_prefix=prefix,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "").strip() or "appsync-cqrs",
            projection_signal_url=signal_url,
            projection_signal_budget_ms=budget_ms,
            projection_signal_ca_file=ca_file,
        )
