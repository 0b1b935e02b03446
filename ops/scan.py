"""Parallel segmented scan of the table, resumable through a checkpoint file.

DynamoDB splits a table into `segments` disjoint parts (`Scan(Segment=i, TotalSegments=n)`); one thread
scans each. After a page has been handled, the segment's `LastEvaluatedKey` goes to the checkpoint, so an
interrupted run resumes at the first page it had not finished. A page may thus be handled twice, which is
harmless because every write is versioned (docs/design.md §3).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ops.errors import CheckpointError
from stackclient.lambda_wire import Item, wire_item

PageHandler = Callable[[list[Item]], None]


@dataclass
class SegmentState:
    last_key: Item | None = None
    done: bool = False
    items: int = 0


@dataclass
class Checkpoint:
    """Where each segment of one job stands. `path=None` keeps it in memory only."""

    path: Path | None
    job: str
    segments: int
    states: list[SegmentState] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: str | Path | None, job: str, segments: int) -> Checkpoint:
        """Resume from `path` if it holds this job's checkpoint, else start a new one."""
        checkpoint = cls(Path(path) if path is not None else None, job, segments)
        if checkpoint.path is None or not checkpoint.path.exists():
            checkpoint.states = [SegmentState() for _ in range(segments)]
            checkpoint._save()  # from now on the job's identity is on disk, and a rerun must match it
            return checkpoint
        try:
            saved = json.loads(checkpoint.path.read_text())
            states = [SegmentState(**state) for state in saved["segments"]]
            saved_job, saved_segments = saved["job"], len(states)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"checkpoint {checkpoint.path} is unreadable: {exc}") from exc
        if saved_job != job or saved_segments != segments:
            raise CheckpointError(
                f"checkpoint {checkpoint.path} is for {saved_job!r} with {saved_segments} segments, not "
                f"{job!r} with {segments}: resume with the same options or delete it to start over"
            )
        checkpoint.states = states
        return checkpoint

    @property
    def resumed_items(self) -> int:
        return sum(state.items for state in self.states)

    def advance(self, segment: int, last_key: Item | None, items: int) -> None:
        with self._lock:
            state = self.states[segment]
            state.last_key, state.done, state.items = last_key, last_key is None, state.items + items
            self._save()

    def complete(self) -> bool:
        return all(state.done for state in self.states)

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        if self.path is None:
            return
        body = {"job": self.job, "segments": [asdict(state) for state in self.states]}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new checkpoint, never half


def parallel_scan(
    client: Any,
    table: str,
    checkpoint: Checkpoint,
    handle_page: PageHandler,
    page_size: int = 500,
    stop: threading.Event | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Scan every unfinished segment in its own thread, calling `handle_page` for each page.

    Items reach `handle_page` in wire form (see `wire_item`). It runs in the scanning threads, so it must
    be thread-safe. The first error stops the other segments at their next page and is raised here; the
    checkpoint keeps what was finished. `extra` adds Scan parameters (e.g. a ProjectionExpression).
    """
    stop = stop or threading.Event()

    def scan_segment(segment: int) -> None:
        state = checkpoint.states[segment]
        start_key = state.last_key
        while not state.done and not stop.is_set():
            request: dict[str, Any] = {
                "TableName": table,
                "Segment": segment,
                "TotalSegments": checkpoint.segments,
                "Limit": page_size,
                **(extra or {}),
            }
            if start_key is not None:
                request["ExclusiveStartKey"] = start_key
            try:
                page = client.scan(**request)
                items: list[Item] = [wire_item(item) for item in page.get("Items", [])]
                if items:
                    handle_page(items)
            except BaseException:
                stop.set()
                raise
            start_key = page.get("LastEvaluatedKey")
            checkpoint.advance(segment, start_key, len(items))

    pending = [i for i, state in enumerate(checkpoint.states) if not state.done]
    if not pending:
        return
    with ThreadPoolExecutor(max_workers=len(pending), thread_name_prefix="scan") as pool:
        futures = [pool.submit(scan_segment, segment) for segment in pending]
    errors = [future.exception() for future in futures if future.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
