"""A durable per-shard checkpoint: the last sequence number the poller finished with, in a JSON file.

Writes go to a temporary file that is fsynced and renamed over the old one, so a crash leaves either
the old or the new checkpoint, never a torn file. Committing after the handler returns gives
at-least-once delivery, like Lambda: a crash in between replays those records once more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class CheckpointStore:
    """`{stream_arn: {shard_id: {"sequence_number": str, "finished": bool}}}` in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, dict[str, Any]]] = {}
        if path.exists():
            self._data = json.loads(path.read_text() or "{}")

    def sequence_number(self, stream_arn: str, shard_id: str) -> str | None:
        entry = self._data.get(stream_arn, {}).get(shard_id)
        return None if entry is None else entry.get("sequence_number")

    def finished(self, stream_arn: str, shard_id: str) -> bool:
        return bool(self._data.get(stream_arn, {}).get(shard_id, {}).get("finished"))

    def commit(self, stream_arn: str, shard_id: str, sequence_number: str) -> None:
        self._data.setdefault(stream_arn, {}).setdefault(shard_id, {})["sequence_number"] = sequence_number
        self._save()

    def finish(self, stream_arn: str, shard_id: str) -> None:
        """Mark a closed shard as read to its end, so its children may start."""
        self._data.setdefault(stream_arn, {}).setdefault(shard_id, {})["finished"] = True
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w") as file:
            json.dump(self._data, file, indent=1, sort_keys=True)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
