"""The projection signal: tell AppSync subscribers that search now holds a listing's write.

After a batch, the handler passes the listings whose bulk write newly indexed or deleted them (never a 409
stale from a replay) to :meth:`SignalPublisher.publish`. It sends them to AppSync's IAM-only
``publishListingProjected`` mutation (a NONE data source; ``@aws_subscribe`` fans each field out to
``onListingProjected``), in one SigV4-signed request per invocation: one aliased mutation field per listing,
because AppSync publishes per mutation field and filters subscriptions on each field's result.

Best effort, at most once, bounded:

* at most :data:`MAX_FIELDS_PER_REQUEST` fields per request; a larger batch sends further requests while the
  budget lasts, and what the budget does not cover is dropped and counted as failed;
* the whole publication stays within the invocation's budget (default and maximum 200 ms): each request's
  connect and read timeouts are what is left of it, and no request starts with less than 50 ms left;
* nothing raises: a failure (no connection, timeout, 4xx/5xx, GraphQL errors) is logged and counted, and the
  batch's outcome does not change (search is already right; Lambda must not retry a batch for a signal).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from projector.exceptions import TransportError
from projector.transport import Transport

MAX_FIELDS_PER_REQUEST = 50
DEFAULT_BUDGET_MS = 200
MIN_REQUEST_S = 0.05
"""The transport's shortest timeout: a request needs this much of the budget left to start."""
_FIELDS = "id owner version deleted projectedAt"


@dataclass(frozen=True, slots=True)
class Signal:
    """One listing newly written to search."""

    id: str
    owner: str
    version: int
    """The listing's version search now holds; for a delete, the version that was deleted."""
    deleted: bool


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What one :meth:`SignalPublisher.publish` did (metrics `signals_published`, `signal_publish_failed`)."""

    published: int = 0
    failed: int = 0
    requests: int = 0
    elapsed_ms: float = 0.0
    problems: tuple[str, ...] = ()
    """Why signals were not published, one line per failed request (the handler logs them)."""


def projected_at(epoch_s: float) -> str:
    """AWSDateTime with milliseconds, UTC."""
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def mutation(signals: Sequence[Signal], at: str) -> bytes:
    """The request body: ``mutation { s0: publishListingProjected(input: {...}) {...} s1: ... }``.

    Values are inlined as JSON strings (GraphQL string literals accept JSON's escapes), which keeps the body
    one small document without a variable per field.
    """
    fields = []
    for position, signal in enumerate(signals):
        arguments = (
            f"id: {json.dumps(signal.id)}, owner: {json.dumps(signal.owner)}, "
            f'version: "{signal.version}", deleted: {"true" if signal.deleted else "false"}, '
            f'projectedAt: "{at}"'
        )
        fields.append(f"s{position}: publishListingProjected(input: {{{arguments}}}) {{ {_FIELDS} }}")
    return json.dumps({"query": "mutation ProjectionSignal { " + " ".join(fields) + " }"}).encode()


class SignalPublisher:
    """Publishes projection signals to one AppSync GraphQL endpoint.

    Parameters
    ----------
    transport:
        The projector's HTTP client for the GraphQL URL, signing for service ``appsync``.
    budget_ms:
        Wall time one :meth:`publish` may take, all requests included.
    clock:
        Epoch seconds (``projectedAt``).
    """

    def __init__(
        self, transport: Transport, budget_ms: int = DEFAULT_BUDGET_MS, clock: Callable[[], float] = time.time
    ) -> None:
        self.transport = transport
        self.budget_s = budget_ms / 1000.0
        self._clock = clock

    def publish(self, signals: Sequence[Signal]) -> PublishResult:
        """Send ``signals`` within the budget; never raises, counts and logs what was not delivered."""
        if not signals:
            return PublishResult()
        started = time.monotonic()
        deadline = started + self.budget_s
        at = projected_at(self._clock())
        published = failed = requests = 0
        problems: list[str] = []
        for first in range(0, len(signals), MAX_FIELDS_PER_REQUEST):
            chunk = signals[first : first + MAX_FIELDS_PER_REQUEST]
            left = deadline - time.monotonic()
            if left < MIN_REQUEST_S:
                dropped = len(signals) - first
                failed += dropped
                problems.append(
                    f"{dropped} signals dropped: the {self.budget_s * 1000:.0f} ms budget is spent"
                )
                break
            requests += 1
            delivered, problem = self._send(chunk, at, left)
            published += delivered
            failed += len(chunk) - delivered
            if problem:
                problems.append(problem)
        elapsed_ms = (time.monotonic() - started) * 1000.0
        return PublishResult(published, failed, requests, elapsed_ms, tuple(problems))

    def _send(self, chunk: Sequence[Signal], at: str, timeout: float) -> tuple[int, str | None]:
        """One request: how many of its fields AppSync accepted, and why not all (None when all were)."""
        try:
            response = self.transport.request("POST", "", mutation(chunk, at), timeout=timeout)
        except TransportError as exc:
            return 0, f"{len(chunk)} signals not published: {exc}"
        if response.status != 200:
            body = response.body[:300].decode("utf-8", "replace")
            return 0, f"{len(chunk)} signals refused: HTTP {response.status}: {body}"
        try:
            answer = json.loads(response.body)
            data = answer.get("data") or {}
            errors = answer.get("errors") or []
        except (ValueError, AttributeError):
            return 0, f"{len(chunk)} signals: the answer is not GraphQL JSON"
        delivered = sum(1 for position in range(len(chunk)) if data.get(f"s{position}") is not None)
        if delivered == len(chunk) and not errors:
            return delivered, None
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        return delivered, (
            f"{len(chunk) - delivered} of {len(chunk)} signals refused: "
            f"{first.get('errorType')}: {first.get('message')}"
        )
