"""Which concrete indices stand behind an alias: the one lookup the projector, its commands and ops use.

The projector writes every document to every index behind the write alias, so a reindex that adds a new
index to the write alias gets both written until the swap (docs/design.md §4).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote

from projector.exceptions import AliasMissingError, TransportError
from projector.transport import Response


class Requests(Protocol):
    """What the lookup needs of a client: :class:`projector.transport.Transport` has it."""

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float | None = None
    ) -> Response: ...


def alias_indices(transport: Requests, alias: str, timeout: float | None = None) -> tuple[str, ...]:
    """The indices behind ``alias``, sorted; empty when the alias does not exist.

    Raises
    ------
    TransportError
        OpenSearch could not be reached or answered with an error.
    """
    response = transport.request("GET", f"/_alias/{quote(alias, safe='')}", timeout=timeout)
    if response.status == 404:
        return ()
    if response.status != 200:
        raise TransportError(f"GET /_alias/{alias}: HTTP {response.status}: {response.body[:200]!r}")
    try:
        return tuple(sorted(json.loads(response.body)))
    except (ValueError, TypeError) as exc:
        raise TransportError(f"GET /_alias/{alias}: unparseable answer") from exc


def resolve_alias(transport: Requests, alias: str, timeout: float | None = None) -> tuple[str, ...]:
    """:func:`alias_indices` for an alias that must exist.

    Raises
    ------
    AliasMissingError
        The alias does not exist.
    TransportError
        OpenSearch could not be reached or answered with an error.
    """
    indices = alias_indices(transport, alias, timeout)
    if not indices:
        raise AliasMissingError(alias)
    return indices


class AliasResolver:
    """Caches :func:`resolve_alias` answers for ``ttl_seconds``."""

    def __init__(
        self, transport: Requests, ttl_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.transport = transport
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}

    def indices(self, alias: str, timeout: float | None = None) -> tuple[str, ...]:
        now = self._clock()
        cached = self._cache.get(alias)
        if cached is not None and cached[0] > now:
            return cached[1]
        indices = resolve_alias(self.transport, alias, timeout)
        self._cache[alias] = (now + self.ttl_seconds, indices)
        return indices

    def invalidate(self, alias: str | None = None) -> None:
        if alias is None:
            self._cache.clear()
        else:
            self._cache.pop(alias, None)
