"""Backfill: project every table item into OpenSearch, safely while the stream is live.

A parallel segmented scan (ops.scan) feeds pages to the projector's conversion and bulk writer
(ops.writer). Every document is written with its item's version, so a backfill never regresses a document
the live projector already updated (that write is counted as *stale*). A rate limit bounds the items per
second; a checkpoint file makes an interrupted run resumable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.errors import OpsError
from ops.progress import Progress
from ops.ratelimit import RateLimiter
from ops.scan import Checkpoint, parallel_scan
from ops.writer import ProjectionWriter, Tally, Targets
from stackclient.lambda_wire import Item


class BackfillIncomplete(OpsError):
    """Some writes still failed after retries; the checkpoint stops before their page (rerun to resume)."""


@dataclass
class BackfillResult:
    """What a backfill did."""

    table: str
    targets: dict[str, list[str]]
    scanned: int = 0
    resumed_from: int = 0
    tally: Tally = field(default_factory=Tally)

    def summary(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "targets": self.targets,
            "scanned": self.scanned,
            "resumed_from": self.resumed_from,
            **self.tally.counts(),
            "rejects": self.tally.rejects,
        }

    def text(self) -> str:
        counts = self.tally.counts()
        lines = [
            f"backfill of {self.table} into "
            + ", ".join(f"{name}: {'+'.join(indices)}" for name, indices in self.targets.items()),
            f"  scanned  {self.scanned} items"
            + (f" (resumed after {self.resumed_from})" if self.resumed_from else ""),
            f"  written  {counts['written']}",
            f"  stale    {counts['stale']}  (the index already had this version or a newer one)",
            f"  rejected {counts['rejected']}  (cannot be projected: see rejects)",
            f"  skipped  {counts['skipped']}  (not a projected entity)",
        ]
        lines.extend(f"    {r['key']}: {r['code']}: {r['reason']}" for r in self.tally.rejects[:10])
        return "\n".join(lines)


def backfill(
    dynamodb: Any,
    table: str,
    writer: ProjectionWriter,
    segments: int = 4,
    page_size: int = 250,
    rate: float | None = None,
    checkpoint_path: str | Path | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> BackfillResult:
    """Scan `table` and write every projected item to `writer`'s targets.

    Raises
    ------
    BackfillIncomplete
        Writes still failed after the writer's retries (OpenSearch overloaded or down). The checkpoint
        keeps every page finished before, so a rerun with the same options resumes.
    CheckpointError
        `checkpoint_path` holds another job's checkpoint.
    """
    targets: Targets = writer.targets
    job = f"backfill {table} -> " + ";".join(f"{k}={','.join(v)}" for k, v in sorted(targets.items()))
    checkpoint = Checkpoint.open(checkpoint_path, job, segments)
    result = BackfillResult(
        table, {k: list(v) for k, v in targets.items()}, resumed_from=checkpoint.resumed_items
    )
    limiter = RateLimiter(rate)
    lock = threading.Lock()

    def handle_page(items: list[Item]) -> None:
        limiter.acquire(len(items))
        tally = writer.write_items(items)
        with lock:
            result.scanned += len(items)
            result.tally.add(tally)
        if progress is not None:
            progress.add(
                len(items),
                written=tally.written,
                stale=tally.stale,
                rejected=tally.rejected,
                skipped=tally.skipped,
            )
        if tally.failed:
            raise BackfillIncomplete(
                f"{tally.failed} writes failed after retries (OpenSearch unavailable or overloaded); "
                "rerun with the same --checkpoint to resume"
            )

    if progress is not None:
        progress.start()
    try:
        parallel_scan(dynamodb, table, checkpoint, handle_page, page_size=page_size, stop=stop)
    finally:
        if progress is not None:
            progress.close()
    if checkpoint.complete():
        checkpoint.remove()
    return result
