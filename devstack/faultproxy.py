"""A fault-injecting HTTP proxy for OpenSearch (osmem): 429s, 500s, timeouts, dropped connections and
per-item failures inside ``_bulk`` responses.

    with FaultProxy(osmem.url, seed=7) as proxy:
        proxy.set(status_429=0.2, drop=0.1, item_failure=0.3)   # rates per matching request / bulk item
        proxy.script("500", "timeout")                          # first exactly these, for the next two
        ... point the client at proxy.url ...
        proxy.stats["status_429"], proxy.stats["forwarded"]
        proxy.refuse(); ...; proxy.accept()                     # an outage: connections refused

Faults apply to requests whose path contains ``Faults.match`` (default ``/_bulk``); everything else is
forwarded untouched. A per-item failure is faithful: the failed action is **not** forwarded (so it is
really not written) and the response gets an item with the injected status at that action's position.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULT_KINDS = ("429", "500", "413", "timeout", "drop", "items")


@dataclass(frozen=True)
class Faults:
    """Fault rates (probabilities 0..1) and how faults behave."""

    status_429: float = 0.0
    status_500: float = 0.0
    timeout: float = 0.0
    """Hold the request without answering for ``hang_seconds``, then close the connection."""
    drop: float = 0.0
    """Close the connection without answering."""
    item_failure: float = 0.0
    """Per ``_bulk`` action: fail it with ``item_status`` instead of forwarding it."""
    item_status: int = 429
    fail_ids: tuple[str, ...] = ()
    """``_bulk`` actions for these document ids always fail with ``item_status``."""
    hang_seconds: float = 5.0
    match: str = "/_bulk"


class FaultProxy:
    """A threaded proxy on a free loopback port in front of ``upstream``."""

    def __init__(self, upstream: str, faults: Faults | None = None, seed: int | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.faults = faults or Faults()
        self.stats: Counter[str] = Counter()
        self.request_sizes: list[int] = []
        """Body sizes of the requests that matched ``Faults.match``, in arrival order."""
        self._script: list[str] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._refusing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self.url = ""

    # -- control -----------------------------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change fault settings, e.g. ``set(status_429=0.5)``; unknown names raise TypeError."""
        known = {field.name for field in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            self.faults = replace(self.faults, **changes)

    def clear(self) -> None:
        """No faults at all (keeps ``hang_seconds`` and ``match``)."""
        with self._lock:
            self.faults = Faults(hang_seconds=self.faults.hang_seconds, match=self.faults.match)
            self._script.clear()

    def script(self, *kinds: str) -> None:
        """Apply exactly these faults to the next matching requests, in order (before any rates)."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._script.extend(kinds)

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        # The same port after an outage (`accept`), so clients find the proxy where it was.
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self._port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def refuse(self) -> None:
        """An outage: close the listening socket (new connections are refused) and drop every request
        on a kept-alive connection, whatever its path, until `accept()`."""
        with self._lock:
            self._refusing = True
        self.stats["outages"] += 1
        self._close()

    def accept(self) -> None:
        """End an outage: listen again on the same port."""
        with self._lock:
            self._refusing = False
        if self._server is None:
            self.start()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- decisions ---------------------------------------------------------------------------------------
    def _decide(self, path: str) -> tuple[str | None, Faults]:
        with self._lock:
            faults = self.faults
            if faults.match and faults.match not in path:
                return None, faults
            if self._script:
                return self._script.pop(0), faults
            roll = self._random.random()
            for kind, rate in (
                ("429", faults.status_429),
                ("500", faults.status_500),
                ("timeout", faults.timeout),
                ("drop", faults.drop),
            ):
                if roll < rate:
                    return kind, faults
                roll -= rate
            if (faults.item_failure > 0 or faults.fail_ids) and "_bulk" in path:
                return "items", faults
            return None, faults

    def _pick_failures(self, ids: list[str], faults: Faults, scripted: bool) -> frozenset[int]:
        count = len(ids)
        with self._lock:
            chosen = frozenset(
                position
                for position in range(count)
                if ids[position] in faults.fail_ids or self._random.random() < faults.item_failure
            )
        if scripted and not chosen and count:
            chosen = frozenset({0})  # a scripted "items" fault always fails at least one action
        return chosen


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The answer goes out as two writes (headers, then body): with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the headers, 40 ms per request on Linux (measured: 46 ms per
    # one-document _bulk through the proxy, 3 ms with this set; osmem alone ~1 ms).
    disable_nagle_algorithm = True
    owner: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if owner._refusing:
            owner.stats["refused"] += 1
            self._drop()
            return
        kind, faults = owner._decide(self.path)
        owner.stats["requests"] += 1
        if faults.match and faults.match in self.path:
            owner.request_sizes.append(len(body))
        if kind in ("429", "500", "413"):
            owner.stats[f"status_{kind}"] += 1
            status = int(kind)
            error = {429: "rejected_execution_exception", 413: "request_entity_too_large"}.get(
                status, "internal_server_error"
            )
            self._reply(
                status, json.dumps({"error": {"type": error, "reason": "injected"}, "status": status})
            )
            return
        if kind == "timeout":
            owner.stats["timeout"] += 1
            owner._stopping.wait(faults.hang_seconds)
            self._drop()
            return
        if kind == "drop":
            owner.stats["drop"] += 1
            self._drop()
            return
        if kind == "items":
            self._bulk_with_item_failures(
                body, faults, scripted=faults.item_failure == 0 and not faults.fail_ids
            )
            return
        status, headers, payload = self._forward(body)
        self._reply(status, payload, headers.get("Content-Type", "application/json"))

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        owner = self.owner
        owner.stats["forwarded"] += 1
        connection = http.client.HTTPConnection(owner.upstream_host, owner.upstream_port, timeout=60)
        try:
            headers = {
                key: value
                for key, value in self.headers.items()
                if key.lower() not in ("host", "connection", "content-length")
            }
            payload = body if body or self.command != "GET" else None
            connection.request(self.command, self.path, body=payload, headers=headers)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()

    def _bulk_with_item_failures(self, body: bytes, faults: Faults, scripted: bool) -> None:
        owner = self.owner
        lines = body.split(b"\n")
        actions: list[tuple[str, dict[str, Any], list[bytes]]] = []
        position = 0
        while position < len(lines):
            line = lines[position]
            position += 1
            if not line.strip():
                continue
            meta = json.loads(line)
            (op,) = meta
            chunk = [line]
            if op != "delete" and position < len(lines):
                chunk.append(lines[position])
                position += 1
            actions.append((op, meta[op], chunk))
        ids = [str(meta.get("_id")) for _, meta, _ in actions]
        failing = owner._pick_failures(ids, faults, scripted)
        owner.stats["item_failures"] += len(failing)
        kept = [chunk for number, (_, _, chunk) in enumerate(actions) if number not in failing]
        forwarded_items: list[dict[str, Any]] = []
        if kept:
            status, _, payload = self._forward(b"\n".join(line for chunk in kept for line in chunk) + b"\n")
            if status != 200:
                self._reply(status, payload)
                return
            forwarded_items = json.loads(payload).get("items", [])
        merged: list[dict[str, Any]] = []
        forwarded = iter(forwarded_items)
        for number, (op, meta, _) in enumerate(actions):
            if number in failing:
                error = "rejected_execution_exception" if faults.item_status == 429 else "injected_failure"
                injected = {"type": error, "reason": "injected by faultproxy"}
                merged.append(
                    {op: {"_index": meta.get("_index"), "_id": meta.get("_id"), "status": faults.item_status,
                          "error": injected}}
                )  # fmt: skip
            else:
                merged.append(next(forwarded))
        self._reply(200, json.dumps({"took": 1, "errors": True, "items": merged}))

    def _reply(self, status: int, payload: str | bytes, content_type: str = "application/json") -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (its read time-out, a killed poller): nobody is left to answer.
            self.owner.stats["client_gone"] += 1
            self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
