"""The bounded ``_bulk`` writer: external versions, byte/count caps, per-item outcomes, retries.

Every action is written with ``version_type=external``. Requests are capped by bytes and by count; an
action larger than the byte cap is never sent (poison ``document_too_large``), and a request the server
still refuses as too large (413) is split in halves until the culprit stands alone. Item outcomes:

| item status                      | outcome   |
| -------------------------------- | --------- |
| 200, 201                         | INDEXED   |
| 404 on a delete                  | DELETED   |
| 409 (version conflict)           | STALE     |
| 429, 5xx, timeout, connection,   | retried (backoff, full jitter) until the deadline, then FAILED |
| index_not_found_exception        |           |
| any other 4xx                    | POISON    |
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from projector.exceptions import TransportError
from projector.transport import Transport

_encode = json.JSONEncoder(separators=(",", ":")).encode  # ASCII output: str → bytes is a plain copy

_dumps: Callable[[Any], bytes]
_loads: Callable[[bytes], Any]


def _stdlib_dumps(value: Any) -> bytes:
    return _encode(value).encode()


try:  # orjson, when bundled, serialises documents several times faster; the stdlib path is the fallback.
    import orjson

    _dumps = orjson.dumps
    _loads = orjson.loads
except ImportError:  # pragma: no cover - exercised when the package is built without orjson
    _dumps = _stdlib_dumps
    _loads = json.loads
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Half the 10 MiB request limit of the smallest domains."""
DEFAULT_MAX_ACTIONS = 1000
"""A Lambda batch of up to 1,000 records goes out in one request (one round trip)."""
_FILTER = "?filter_path=errors,items.*.status,items.*.error"
"""Statuses and whole error objects: naming the error's leaves (``items.*.error.type``, ...) instead made
the server slower per request (projector/README.md, Performance)."""


class Outcome(Enum):
    INDEXED = "indexed"
    DELETED = "deleted"
    STALE = "stale"
    POISON = "poison"
    FAILED = "failed"


def outcome_of(status: int, error_type: str | None, delete: bool) -> Outcome:
    """The outcome of one ``_bulk`` item, the table in this module's docstring (FAILED: retry it)."""
    if status == 200 or status == 201:
        return Outcome.DELETED if delete else Outcome.INDEXED
    if status == 409:
        return Outcome.STALE
    if status == 404 and delete:
        return Outcome.DELETED
    if status == 429 or status >= 500 or status == 0 or error_type == "index_not_found_exception":
        # index_not_found: the alias moved under us; the caller re-resolves it on the next batch.
        return Outcome.FAILED
    return Outcome.POISON


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


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one action. Immutable: one instance stands for every success of a request."""

    outcome: Outcome
    status: int = 0
    """The item's HTTP status (0: no answer). A response whose ``errors`` is false is not read item by
    item: its successes say 200, whether OpenSearch created (201) or updated the document."""
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


@dataclass(frozen=True, slots=True)
class BulkStats:
    """What one write call cost: requests sent, items retried, requests split, each request's latency."""

    requests: int = 0
    retried_items: int = 0
    split_requests: int = 0
    latencies_ms: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkResult:
    """One write call's answer: one :class:`ItemResult` per action, in order, and what the call cost."""

    items: list[ItemResult]
    stats: BulkStats


class BulkWriter:
    """Writes actions through ``_bulk``; each call returns a :class:`BulkResult` (an :class:`ItemResult` per
    action, in order, and what the call cost).

    Holds only its configuration: calls share nothing, so one writer may serve several threads.

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
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_actions: int = DEFAULT_MAX_ACTIONS,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.max_bytes = max_bytes
        self.max_actions = max_actions
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    def write(self, actions: Sequence[BulkAction], deadline: float | None = None) -> BulkResult:
        """Write ``actions``; retry what is retryable until ``deadline`` (``time.monotonic()`` seconds)."""
        deletes = frozenset(position for position, action in enumerate(actions) if action.op == "delete")
        return self.write_lines([_ndjson(action) for action in actions], deadline, deletes)

    def write_lines(
        self, lines: Sequence[bytes], deadline: float | None = None, deletes: frozenset[int] = frozenset()
    ) -> BulkResult:
        """:meth:`write` for actions already serialised by :func:`action_line`; ``deletes`` are positions.

        Returns one result per line, in order.
        """
        if deadline is None:
            deadline = time.monotonic() + 60.0
        call = _Call(self, lines, deletes, deadline)
        max_bytes = self.max_bytes
        pending = list(range(len(lines)))
        if lines and max(map(len, lines)) > max_bytes:
            pending = []
            for position, line in enumerate(lines):
                if len(line) <= max_bytes:
                    pending.append(position)
                else:
                    call.results[position] = ItemResult(
                        Outcome.POISON, 413, "document_too_large",
                        f"action of {len(line)} bytes exceeds the bulk cap of {max_bytes} bytes",
                    )  # fmt: skip
        while pending:
            call.attempt += 1
            call.retry_later = []
            for chunk in self._chunks(pending, lines):
                if time.monotonic() + self.retry.min_request_seconds > deadline:
                    call.retry_later.extend(chunk)
                    continue
                call.send(chunk)
            pending = call.retry_later
            if not pending:
                break
            pause = self.retry.delay(call.attempt - 1)
            if time.monotonic() + pause + self.retry.min_request_seconds > deadline:
                break
            call.retried_items += len(pending)
            self._sleep(pause)
        return call.finish(pending)

    def _chunks(self, pending: list[int], lines: Sequence[bytes]) -> list[list[int]]:
        whole = len(pending) == len(lines)
        size = sum(map(len, lines)) if whole else sum(len(lines[position]) for position in pending)
        if len(pending) <= self.max_actions and size <= self.max_bytes:
            return [pending]  # the usual case: the whole batch fits one request
        step = self.max_actions
        if size <= self.max_bytes:  # only the count splits: equal slices
            return [pending[start : start + step] for start in range(0, len(pending), step)]
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


class _Call:
    """The state of one write call: what each line became so far, and what it cost."""

    def __init__(
        self, writer: BulkWriter, lines: Sequence[bytes], deletes: frozenset[int], deadline: float
    ) -> None:
        self.transport = writer.transport
        self.lines = lines
        self.deletes = deletes
        self.deadline = deadline
        self.results: list[ItemResult | None] = [None] * len(lines)
        self.last_error: dict[int, ItemResult] = {}
        self.retry_later: list[int] = []
        self.attempt = 0
        self.requests = self.retried_items = self.split_requests = 0
        self.latencies_ms: list[float] = []

    def finish(self, pending: list[int]) -> BulkResult:
        """The call's result; ``pending`` lines had no time left and fail with their last error."""
        results = self.results
        for position in pending:
            error = self.last_error.get(position)
            results[position] = ItemResult(
                Outcome.FAILED,
                error.status if error else 0,
                error.error_type if error else "deadline",
                error.reason if error else "no time left in the invocation",
                self.attempt,
            )
        # By identity: `None in results` would call ItemResult.__eq__, a Python function, per item.
        if any(result is None for result in results):  # pragma: no cover - every position has one
            raise AssertionError("a bulk action has no result")
        stats = BulkStats(self.requests, self.retried_items, self.split_requests, tuple(self.latencies_ms))
        return BulkResult(results, stats)  # type: ignore[arg-type]

    def send(self, chunk: list[int]) -> None:
        lines = self.lines
        body = b"".join([lines[position] for position in chunk])
        started = time.monotonic()
        self.requests += 1
        try:
            response = self.transport.request(
                "POST",
                "/_bulk" + _FILTER,
                body,
                timeout=self.deadline - started,
                content_type="application/x-ndjson",
            )
        except TransportError as exc:
            self._retry_all(chunk, "connection_error", str(exc), 0)
            return
        finally:
            self.latencies_ms.append((time.monotonic() - started) * 1000.0)
        status = response.status
        if status == 200:
            self._read_items(chunk, response.body)
            return
        reason = response.body[:300].decode("utf-8", "replace")
        if status in (400, 413) and len(chunk) > 1:
            # The request as a whole was refused: split it so one bad action cannot sink the others.
            self.split_requests += 1
            half = len(chunk) // 2
            self.send(chunk[:half])
            self.send(chunk[half:])
            return
        if status in (400, 413):
            error = "request_too_large" if status == 413 else "bad_request"
            self.results[chunk[0]] = ItemResult(Outcome.POISON, status, error, reason, self.attempt)
            return
        self._retry_all(chunk, f"http_{status}", reason, status)

    def _retry_all(self, chunk: list[int], error_type: str, reason: str, status: int) -> None:
        self.retry_later.extend(chunk)
        for position in chunk:
            self.last_error[position] = ItemResult(Outcome.FAILED, status, error_type, reason)

    def _read_items(self, chunk: list[int], body: bytes) -> None:
        deletes, results, attempt = self.deletes, self.results, self.attempt
        if not deletes and _none_failed(body, len(chunk)):
            # The usual case: no need to build and read a thousand item objects.
            success = ItemResult(Outcome.INDEXED, 200, attempts=attempt)
            for position in chunk:
                results[position] = success
            return
        try:
            items = _loads(body)["items"]
        except (ValueError, KeyError, TypeError):
            self._retry_all(chunk, "bad_response", "unparseable _bulk response", 200)
            return
        if not isinstance(items, list) or len(items) != len(chunk):
            self._retry_all(chunk, "bad_response", "_bulk response item count differs", 200)
            return
        successes: dict[tuple[Outcome, int], ItemResult] = {}  # results are immutable: shared per kind
        for position, entry in zip(chunk, items, strict=True):
            (item,) = entry.values()
            status = item.get("status", 0)
            error = item.get("error")
            error_type = reason = None
            if error:
                error_type = error.get("type") if isinstance(error, dict) else None
                reason = error.get("reason") if isinstance(error, dict) else str(error)
            outcome = outcome_of(status, error_type, position in deletes)
            if outcome is Outcome.FAILED:
                self.retry_later.append(position)
                self.last_error[position] = ItemResult(outcome, status, error_type, reason)
            elif status == 200 or status == 201:
                shared = successes.get((outcome, status))
                if shared is None:
                    shared = successes[outcome, status] = ItemResult(outcome, status, attempts=attempt)
                results[position] = shared
            else:
                results[position] = ItemResult(outcome, status, error_type, reason, attempt)


def _none_failed(body: bytes, actions: int) -> bool:
    """Whether a ``_bulk`` answer says that none of its ``actions`` items failed, read without parsing it:
    OpenSearch's ``"errors":false`` among the first keys, and one ``"status":`` key per item.

    Neither text can occur inside a JSON string (its quotes would be escaped), and an answer without
    failures has no error objects, so the only ``status`` keys are the items'. An answer that does not
    match exactly (other formatting, a count that differs) is parsed in full.
    """
    return body.find(b'"errors":false', 0, 64) != -1 and body.count(b'"status":') == actions


def action_line(index: str, doc_id: str, version: int, source: bytes | None) -> bytes:
    """One NDJSON action (and its source line): index ``source``, or delete when it is None."""
    try:  # encode_document inline: a call less per action
        encoded_id = _dumps(doc_id)
    except TypeError:  # a lone surrogate (see encode_document)
        encoded_id = _stdlib_dumps(doc_id)
    if source is None:
        prefix = _DELETE.get(index) or _prefix(_DELETE, "delete", index)
        return b'%s%s,"version":%d,"version_type":"external"}}\n' % (prefix, encoded_id, version)
    prefix = _INDEX.get(index) or _prefix(_INDEX, "index", index)
    # One formatting step builds the whole action line (no intermediate copies of the source).
    return b'%s%s,"version":%d,"version_type":"external"}}\n%s\n' % (prefix, encoded_id, version, source)


def _prefix(cache: dict[str, bytes], op: str, index: str) -> bytes:
    prefix = cache[index] = f'{{"{op}":{{"_index":{_encode(index)},"_id":'.encode()
    return prefix


_INDEX: dict[str, bytes] = {}
_DELETE: dict[str, bytes] = {}
"""The start of an action line, per index (index and delete actions)."""


def _ndjson(action: BulkAction) -> bytes:
    source = action.source
    if source is None and action.document is not None:
        source = encode_document(action.document)
    return action_line(action.index, action.doc_id, action.version, source)


def encode_document(document: Any) -> bytes:
    """Serialise a document (or any JSON value) the way the writer does: compact UTF-8 JSON."""
    try:
        return _dumps(document)
    except TypeError:  # orjson: an integer beyond 64 bits or a lone surrogate; the stdlib writes both
        return _stdlib_dumps(document)
