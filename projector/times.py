"""Time as the documents write it: ISO-8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

_YEAR_10000 = 253402300800


def iso_time(moment: datetime | float | None = None) -> str:
    """ISO-8601 UTC with milliseconds, like ``2026-01-02T03:04:05.000Z``; now if ``moment`` is None.

    Epoch seconds outside years 1970-9999 (or not a number at all, from a malformed record) mean now.
    """
    if isinstance(moment, int | float):
        if 0 <= moment < _YEAR_10000:
            return _iso_seconds(float(moment))
    elif isinstance(moment, datetime):
        return _iso(moment)
    return _iso(None)


@lru_cache(maxsize=256)
def _iso_seconds(moment: float) -> str:
    # Stream times are whole seconds and a batch spans few of them: format each once.
    return _iso(moment)


def _iso(moment: datetime | float | None) -> str:
    if moment is None:
        moment = datetime.now(UTC)
    elif not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
