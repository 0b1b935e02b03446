"""A progress line on stderr: redrawn in place on a terminal, one line every few seconds otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """Count items (and named outcomes) and show `label: done[/total] items, rate/s, counts`."""

    def __init__(
        self, label: str, total: int | None = None, stream: TextIO | None = None, interval: float = 2.0
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.counts: dict[str, int] = {}
        self._stream = stream if stream is not None else sys.stderr
        self._tty = self._stream.isatty()
        self._interval = 0.2 if self._tty else interval
        self._started = time.monotonic()
        self._shown = 0.0
        self._lock = threading.Lock()
        self.enabled = True

    def start(self) -> None:
        """Start the clock now (the rate then excludes any wait before the work)."""
        with self._lock:
            self._started = time.monotonic()

    def add(self, done: int, **counts: int) -> None:
        with self._lock:
            self.done += done
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            now = time.monotonic()
            if self.enabled and now - self._shown >= self._interval:
                self._shown = now
                self._show(final=False)

    def close(self) -> None:
        with self._lock:
            if self.enabled:
                self._show(final=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-3)
        of = f"/{self.total}" if self.total is not None else ""
        counts = ", ".join(f"{key} {value}" for key, value in sorted(self.counts.items()))
        return f"{self.label}: {self.done}{of} items, {self.done / elapsed:.0f}/s" + (
            f" ({counts})" if counts else ""
        )

    def _show(self, final: bool) -> None:
        if self._tty:
            self._stream.write("\r\033[K" + self.line() + ("\n" if final else ""))
        else:
            self._stream.write(self.line() + "\n")
        self._stream.flush()
