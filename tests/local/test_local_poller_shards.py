"""Shard lists: paging through DescribeStream, children only after their parent is read to its end.

moto serves one shard per stream, so these tests script the Streams API the way AWS documents it for a
split shard: the parent is closed (GetRecords ends with no NextShardIterator) and the child names it in
`ParentShardId`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devstack.checkpoint import CheckpointStore
from devstack.definitions import EsmSettings
from devstack.poller import StreamPoller

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"


def record(key: str, sequence: int) -> dict[str, Any]:
    return {
        "eventID": key,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.now(UTC),
            "Keys": {"pk": {"S": key}},
            "SequenceNumber": str(sequence),
            "SizeBytes": 10,
            "StreamViewType": "KEYS_ONLY",
        },
    }


class ScriptedStreams:
    """DescribeStream (one shard per page), GetShardIterator and GetRecords over fixed shards."""

    def __init__(
        self, shards: list[dict[str, Any]], records: dict[str, list[dict[str, Any]]], closed: set[str]
    ):
        self.shards, self.records, self.closed = shards, records, closed
        self.describe_calls = 0

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        self.describe_calls += 1
        ids = [shard["ShardId"] for shard in self.shards]
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = self.shards[start : start + 1]
        more = start + 1 < len(self.shards)
        return {
            "StreamDescription": {"Shards": page, **({"LastEvaluatedShardId": ids[start]} if more else {})}
        }

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, **kw: Any
    ) -> dict[str, Any]:
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in self.records[ShardId]]
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = sum(1 for s in sequences if s <= int(kw["SequenceNumber"]))
        elif ShardIteratorType == "TRIM_HORIZON":
            position = 0
        else:
            raise AssertionError(f"unexpected {ShardIteratorType}")
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, position = ShardIterator.split("|")
        start = int(position)
        page = self.records[shard][start : start + Limit]
        end = start + len(page)
        done = shard in self.closed and end == len(self.records[shard])
        return {"Records": page, **({} if done else {"NextShardIterator": f"{shard}|{end}"})}


def make_poller(streams: ScriptedStreams, checkpoint: Path, seen: list[str]) -> StreamPoller:
    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"])

    settings = EsmSettings(batch_size=2, function_response_types=("ReportBatchItemFailures",))
    return StreamPoller(streams, ARN, handler, settings, CheckpointStore(checkpoint), lambda message: None)


def scripted() -> ScriptedStreams:
    shards = [
        {"ShardId": "child", "ParentShardId": "parent"},  # listed first: order in the list means nothing
        {"ShardId": "parent"},
        {"ShardId": "other"},
    ]
    records = {
        "parent": [record("p1", 1), record("p2", 2), record("p3", 3)],
        "child": [record("c1", 10), record("c2", 11)],
        "other": [record("o1", 20)],
    }
    return ScriptedStreams(shards, records, closed={"parent"})


def test_children_wait_for_their_parent_and_every_page_of_shards_is_read(tmp_path: Path) -> None:
    streams = scripted()
    seen: list[str] = []
    poller = make_poller(streams, tmp_path / "checkpoint.json", seen)

    poller.drain()

    assert streams.describe_calls >= 3  # followed LastEvaluatedShardId through every page
    assert sorted(seen) == ["c1", "c2", "o1", "p1", "p2", "p3"]
    assert seen.index("p3") < seen.index("c1")  # per-key order across the split
    store = CheckpointStore(tmp_path / "checkpoint.json")
    assert store.finished(ARN, "parent") and not store.finished(ARN, "child")
    assert store.sequence_number(ARN, "child") == "11"


def test_a_restart_skips_finished_parents_and_resumes_children(tmp_path: Path) -> None:
    streams = scripted()
    seen: list[str] = []
    make_poller(streams, tmp_path / "checkpoint.json", seen).drain()
    streams.records["child"].append(record("c3", 12))
    seen.clear()

    make_poller(streams, tmp_path / "checkpoint.json", seen).drain()

    assert seen == ["c3"]


class Flaky(ScriptedStreams):
    """GetRecords fails with a 500 for the first `failures` calls (or always)."""

    def __init__(self, failures: int | None) -> None:
        base = scripted()
        super().__init__(base.shards, base.records, base.closed)
        self.failures = failures
        self.calls = 0

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "GetRecords")
        return super().get_records(ShardIterator, Limit)


def test_stream_errors_are_retried_from_the_checkpoint(tmp_path: Path) -> None:
    streams = Flaky(failures=3)
    seen: list[str] = []
    poller = make_poller(streams, tmp_path / "checkpoint.json", seen)
    worker = threading.Thread(target=poller.run)
    worker.start()
    deadline = time.monotonic() + 10
    while len(seen) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    poller.stop_event.set()
    worker.join(5)
    assert sorted(seen) == ["c1", "c2", "o1", "p1", "p2", "p3"]


def test_a_stream_that_keeps_failing_stops_the_poller(tmp_path: Path) -> None:
    poller = make_poller(Flaky(failures=None), tmp_path / "checkpoint.json", [])
    with pytest.raises(ClientError, match="boom"):
        poller.run(give_up_after_s=0.5)
