"""The bounded ``_bulk`` writer: external versions, byte/count caps, per-item outcomes, retries.

Every action is written with ``version_type=external``. Requests are capped by bytes and by count; an
action larger than the byte cap is never sent (poison ``document_too_large``), and a request the server
still refuses as too large (413) is split in halves until the culprit stands alone. Item outcomes:

| item status                      | outcome   |
| -------------------------------- | --------- |
| 200, 201                         | INDEXED   |
| 404 on a delete                  | DELETED   |
| 409 (version conflict)           | STALE     |
| 429, 5xx, timeout, connection    | retried (backoff, full jitter) until the deadline, then FAILED |
| any other 4xx                    | POISON    |
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from projector.exceptions import TransportError
from projector.transport import Transport

_encode = json.JSONEncoder(separators=(",", ":")).encode  # ASCII output: str → bytes is a plain copy

_orjson_dumps: Callable[[Any], bytes] | None
_loads: Callable[[bytes], Any]
try:  # orjson, when bundled, serialises documents ~2.5x faster; the stdlib path is the fallback.
    import orjson

    _orjson_dumps = orjson.dumps
    _loads = orjson.loads
except ImportError:  # pragma: no cover - exercised when the package is built without orjson
    _orjson_dumps = None
    _loads = json.loads
_FILTER = "?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"


class Outcome(Enum):
    INDEXED = "indexed"
    DELETED = "deleted"
    STALE = "stale"
    POISON = "poison"
    FAILED = "failed"

    @property
    def handled(self) -> bool:
        """True when Lambda need not retry the record (POISON is handled once it is in the DLQ)."""
        return self is not Outcome.FAILED


@dataclass(slots=True)
class BulkAction:
    """One document write (or delete) to one concrete index with an external version."""

    index: str
    doc_id: str
    version: int
    document: dict[str, Any] | None = None
    """The source; None for a delete."""
    source: bytes | None = None
    """Pre-serialised source (wins over ``document``); lets callers serialise once for several indices."""

    @property
    def op(self) -> str:
        return "delete" if self.document is None and self.source is None else "index"


@dataclass(slots=True)
class ItemResult:
    outcome: Outcome
    status: int = 0
    error_type: str | None = None
    reason: str | None = None
    attempts: int = 0


@dataclass(slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**attempt))."""

    base_seconds: float = 0.05
    cap_seconds: float = 2.0
    min_request_seconds: float = 0.25
    """Do not start a request with less time than this left before the deadline."""

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        ceiling: float = min(self.cap_seconds, self.base_seconds * 2.0**attempt)
        return rand() * ceiling


@dataclass(slots=True)
class BulkStats:
    requests: int = 0
    retried_items: int = 0
    split_requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)


class BulkWriter:
    """Writes actions through ``_bulk`` and returns one :class:`ItemResult` per action, in order.

    Parameters
    ----------
    transport:
        Where to send.
    max_bytes, max_actions:
        Caps on one request body (defaults fit a 10 MiB domain limit with room to spare).
    retry:
        Backoff policy for retryable failures.
    """

    def __init__(
        self,
        transport: Transport,
        max_bytes: int = 5 * 1024 * 1024,
        max_actions: int = 500,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.max_bytes = max_bytes
        self.max_actions = max_actions
        self.retry = retry or RetryPolicy()
        self.stats = BulkStats()
        """Counters of the most recent :meth:`write` call."""
        self._sleep = sleep

    def write(self, actions: Sequence[BulkAction], deadline: float | None = None) -> list[ItemResult]:
        """Write ``actions``; retry what is retryable until ``deadline`` (``time.monotonic()`` seconds)."""
        if deadline is None:
            deadline = time.monotonic() + 60.0
        self.stats = BulkStats()
        results: list[ItemResult | None] = [None] * len(actions)
        lines: list[bytes] = []
        pending: list[int] = []
        for position, action in enumerate(actions):
            line = _ndjson(action)
            lines.append(line)
            if len(line) > self.max_bytes:
                results[position] = ItemResult(
                    Outcome.POISON, 413, "document_too_large",
                    f"action of {len(line)} bytes exceeds the bulk cap of {self.max_bytes} bytes",
                )  # fmt: skip
            else:
                pending.append(position)
        attempt = 0
        last_error: dict[int, ItemResult] = {}
        while pending:
            attempt += 1
            retry_later: list[int] = []
            for chunk in self._chunks(pending, lines):
                if time.monotonic() + self.retry.min_request_seconds > deadline:
                    retry_later.extend(chunk)
                    continue
                self._send(chunk, actions, lines, results, retry_later, last_error, attempt, deadline)
            pending = retry_later
            if not pending:
                break
            pause = self.retry.delay(attempt - 1)
            if time.monotonic() + pause + self.retry.min_request_seconds > deadline:
                break
            self.stats.retried_items += len(pending)
            self._sleep(pause)
        for position in pending:
            failure = last_error.get(position) or ItemResult(
                Outcome.FAILED, 0, "deadline", "no time left in the invocation"
            )
            failure.outcome = Outcome.FAILED
            failure.attempts = attempt
            results[position] = failure
        return [result if result is not None else ItemResult(Outcome.FAILED) for result in results]

    def _chunks(self, pending: list[int], lines: list[bytes]) -> list[list[int]]:
        chunks: list[list[int]] = []
        chunk: list[int] = []
        size = 0
        for position in pending:
            length = len(lines[position])
            if chunk and (size + length > self.max_bytes or len(chunk) >= self.max_actions):
                chunks.append(chunk)
                chunk, size = [], 0
            chunk.append(position)
            size += length
        if chunk:
            chunks.append(chunk)
        return chunks

    def _send(
        self,
        chunk: list[int],
        actions: Sequence[BulkAction],
        lines: list[bytes],
        results: list[ItemResult | None],
        retry_later: list[int],
        last_error: dict[int, ItemResult],
        attempt: int,
        deadline: float,
    ) -> None:
        body = b"".join([lines[position] for position in chunk])
        started = time.monotonic()
        self.stats.requests += 1
        try:
            response = self.transport.request(
                "POST",
                "/_bulk" + _FILTER,
                body,
                timeout=deadline - started,
                content_type="application/x-ndjson",
            )
        except TransportError as exc:
            self._retry_all(chunk, retry_later, last_error, "connection_error", str(exc), 0)
            return
        finally:
            self.stats.latencies_ms.append((time.monotonic() - started) * 1000.0)
        status = response.status
        if status == 200:
            self._read_items(chunk, actions, response.body, results, retry_later, last_error, attempt)
            return
        reason = response.body[:300].decode("utf-8", "replace")
        if status in (400, 413) and len(chunk) > 1:
            # The request as a whole was refused: split it so one bad action cannot sink the others.
            self.stats.split_requests += 1
            half = len(chunk) // 2
            self._send(chunk[:half], actions, lines, results, retry_later, last_error, attempt, deadline)
            self._send(chunk[half:], actions, lines, results, retry_later, last_error, attempt, deadline)
            return
        if status in (400, 413):
            error = "request_too_large" if status == 413 else "bad_request"
            results[chunk[0]] = ItemResult(Outcome.POISON, status, error, reason, attempt)
            return
        self._retry_all(chunk, retry_later, last_error, f"http_{status}", reason, status)

    @staticmethod
    def _retry_all(
        chunk: list[int],
        retry_later: list[int],
        last_error: dict[int, ItemResult],
        error_type: str,
        reason: str,
        status: int,
    ) -> None:
        retry_later.extend(chunk)
        for position in chunk:
            last_error[position] = ItemResult(Outcome.FAILED, status, error_type, reason)

    def _read_items(
        self,
        chunk: list[int],
        actions: Sequence[BulkAction],
        body: bytes,
        results: list[ItemResult | None],
        retry_later: list[int],
        last_error: dict[int, ItemResult],
        attempt: int,
    ) -> None:
        try:
            items = _loads(body)["items"]
        except (ValueError, KeyError, TypeError):
            self._retry_all(chunk, retry_later, last_error, "bad_response", "unparseable _bulk response", 200)
            return
        if not isinstance(items, list) or len(items) != len(chunk):
            self._retry_all(
                chunk, retry_later, last_error, "bad_response", "_bulk response item count differs", 200
            )
            return
        indexed, deleted = Outcome.INDEXED, Outcome.DELETED
        for position, entry in zip(chunk, items, strict=True):
            (item,) = entry.values()
            status = item.get("status", 0)
            if status == 200 or status == 201:
                action = actions[position]
                deleting = action.source is None and action.document is None
                results[position] = ItemResult(deleted if deleting else indexed, status, None, None, attempt)
                continue
            error = item.get("error") or {}
            error_type = error.get("type") if isinstance(error, dict) else None
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            if status == 409:
                results[position] = ItemResult(Outcome.STALE, status, error_type, reason, attempt)
            elif status == 404 and actions[position].op == "delete":
                results[position] = ItemResult(Outcome.DELETED, status, error_type, reason, attempt)
            elif status == 429 or status >= 500 or status == 0 or error_type == "index_not_found_exception":
                # index_not_found: the alias moved under us; the caller re-resolves it on the next batch.
                retry_later.append(position)
                last_error[position] = ItemResult(Outcome.FAILED, status, error_type, reason)
            else:
                results[position] = ItemResult(Outcome.POISON, status, error_type, reason, attempt)


def _ndjson(action: BulkAction) -> bytes:
    source = action.source
    if source is None and action.document is not None:
        source = encode_document(action.document)
    op = "delete" if source is None else "index"
    prefix = _META.get((op, action.index))
    if prefix is None:
        prefix = _META[(op, action.index)] = f'{{"{op}":{{"_index":{_encode(action.index)},"_id":'.encode()
    if source is None:
        return b'%s%s,"version":%d,"version_type":"external"}}\n' % (
            prefix,
            _quote(action.doc_id),
            action.version,
        )
    # One formatting step builds the whole action line (no intermediate copies of the source).
    return b'%s%s,"version":%d,"version_type":"external"}}\n%s\n' % (
        prefix,
        _quote(action.doc_id),
        action.version,
        source,
    )


def _quote(text: str) -> bytes:
    """``text`` as a JSON string."""
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(text)
        except TypeError:  # a lone surrogate: the stdlib escapes it
            pass
    return _encode(text).encode()


_META: dict[tuple[str, str], bytes] = {}
"""Cached start of the action line per (operation, index)."""


def encode_document(document: dict[str, Any]) -> bytes:
    """Serialise a document the way the writer does (compact UTF-8 JSON)."""
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(document)
        except TypeError:  # orjson stops at 64-bit integers; the stdlib writes any integer exactly
            pass
    return _encode(document).encode()
