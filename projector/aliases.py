"""Which concrete indices stand behind a write alias (cached briefly).

The projector writes every document to every index behind the write alias, so a reindex that adds a new
index to the write alias gets both written until the swap (docs/design.md §4).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import quote

from projector.exceptions import AliasMissingError, TransportError
from projector.transport import Transport


def resolve_alias(transport: Transport, alias: str, timeout: float | None = None) -> tuple[str, ...]:
    """The indices behind ``alias``, sorted.

    Raises
    ------
    AliasMissingError
        The alias does not exist.
    TransportError
        OpenSearch could not be reached or answered with an error.
    """
    response = transport.request("GET", f"/_alias/{quote(alias, safe='')}", timeout=timeout)
    if response.status == 404:
        raise AliasMissingError(alias)
    if response.status != 200:
        raise TransportError(f"GET /_alias/{alias}: HTTP {response.status}: {response.body[:200]!r}")
    try:
        indices = tuple(sorted(json.loads(response.body)))
    except (ValueError, TypeError) as exc:
        raise TransportError(f"GET /_alias/{alias}: unparseable answer") from exc
    if not indices:
        raise AliasMissingError(alias)
    return indices


class AliasResolver:
    """Caches :func:`resolve_alias` answers for ``ttl_seconds``."""

    def __init__(
        self, transport: Transport, ttl_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
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
