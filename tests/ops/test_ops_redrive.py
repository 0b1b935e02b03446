"""Redrive after fixing the cause empties the queues, and the items become searchable as they are now."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.stub import Stubber
from opshelpers import OpsEnv, run_script
from support.items import listing

from devstack.definitions import EsmSettings
from devstack.servers import free_port
from ops.errors import DeadLetterError
from ops.reconcile import reconcile
from ops.redrive import Redriver, parse_body, read_stream_range
from projector.entities import LISTING, load_mapping
from projector.indices import READ_FILTER
from stackclient.items import new_version
from stackclient.stack import streams_client


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _searchable(env: OpsEnv) -> set[str]:
    return set(env.live_versions(f"{env.prefix}listings"))


def test_poison_records_are_redriven_once_the_mapping_is_fixed(
    ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = ops_env
    index = env.index()
    # The cause: a broken mapping (city as a number), so every listing is a 400 poison record.
    env.search.indices.delete(index=index)
    broken = load_mapping(LISTING)
    broken["mappings"]["properties"]["city"] = {"type": "long"}
    env.search.indices.create(index=index, body=broken)
    actions = [
        {"add": {"index": index, "alias": LISTING.write_alias(env.prefix)}},
        {"add": {"index": index, "alias": LISTING.read_alias(env.prefix), "filter": READ_FILTER}},
    ]
    env.search.indices.update_aliases(body={"actions": actions})

    first = {f"p{n}": env.put_listing(f"p{n}") for n in range(5)}
    env.put_listing("gone")
    env.delete_listing("gone")  # collapsed with its INSERT into one tombstone, which lands (no city in it)
    env.start_projector(monkeypatch)
    _wait_for(lambda: env.queue_depth(env.stack.dead_letter_queue_url) == 5)
    env.drain_projector()
    assert _searchable(env) == set()
    # The table moves on while the projector is stopped: a redrive must project this, not the payload.
    current = env.put_listing("p1", expected=first["p1"], title="Renamed after the failure")

    dry = run_script(env, "redrive.py", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert (plan["received"], plan["deleted"], plan["outcomes"]) == (5, 5, {"planned": 5})
    assert env.queue_depth(env.stack.dead_letter_queue_url) == 5  # a dry run changes nothing

    # The fix: the index gets its proper mapping back.
    env.search.indices.delete(index=index)
    env.search.indices.create(index=index, body=load_mapping(LISTING))
    env.search.indices.update_aliases(body={"actions": actions})

    done = run_script(env, "redrive.py", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["received"], report["deleted"], report["kept"]) == (5, 5, 0)
    assert env.queue_depth(env.stack.dead_letter_queue_url) == 0
    versions = env.live_versions(f"{env.prefix}listings")
    assert set(versions) == {f"p{n}" for n in range(5)}
    assert versions["p1"] == current  # the item as it is now, not the dead letter's payload
    doc = env.search.get(index=index, id="p1")["_source"]
    assert doc["title"] == "Renamed after the failure"


def test_on_failure_metadata_is_redriven_from_the_stream(
    ops_env: OpsEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = ops_env
    # The cause: OpenSearch unreachable for the projector until the retries run out.
    settings = EsmSettings(
        **{
            **EsmSettings.from_definition().__dict__,
            "maximum_retry_attempts": 1,
            "bisect_batch_on_function_error": False,
        }
    )
    for n in range(4):
        env.put_listing(f"f{n}")
    env.start_projector(
        monkeypatch,
        search_endpoint=f"http://127.0.0.1:{free_port()}",
        settings=settings,
        function_timeout=2.5,
    )
    _wait_for(lambda: env.queue_depth(env.stack.on_failure_queue_url or "") == 1, timeout=60)
    env.stop_projector()
    message = env.sqs.receive_message(QueueUrl=env.stack.on_failure_queue_url, VisibilityTimeout=0)[
        "Messages"
    ][0]
    assert "DDBStreamBatchInfo" in json.loads(message["Body"])  # metadata only: no keys, no images
    assert _searchable(env) == set()

    done = run_script(env, "redrive.py", "--queue", "on-failure", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["reconcile_fallback"] is False
    assert env.queue_depth(env.stack.on_failure_queue_url or "") == 0
    assert _searchable(env) == {f"f{n}" for n in range(4)}


def test_a_trimmed_stream_range_falls_back_to_reconcile(ops_env: OpsEnv) -> None:
    env = ops_env
    env.put(listing("t1", new_version()))
    info = {
        "shardId": "shardId-00000001541626099285-f35f62ef",
        "startSequenceNumber": "1000000000000000000100",
        "endSequenceNumber": "1000000000000000000200",
        "approximateArrivalOfFirstRecord": "2026-11-27T00:00:00.000Z",
        "approximateArrivalOfLastRecord": "2026-11-27T00:00:01.000Z",
        "batchSize": 2,
        "streamArn": env.stream_arn,
    }
    env.sqs.send_message(
        QueueUrl=env.stack.on_failure_queue_url, MessageBody=json.dumps({"DDBStreamBatchInfo": info})
    )
    env.sqs.send_message(QueueUrl=env.stack.dead_letter_queue_url, MessageBody="not json")
    queues = [env.stack.dead_letter_queue_url, env.stack.on_failure_queue_url or ""]

    def redriver(fallback: bool) -> Redriver:
        # moto never trims a stream (it answers 500 for a lost range), so AWS's documented answer for a
        # range older than 24 h, TrimmedDataAccessException, is stubbed on a real client.
        streams = streams_client(env.stack)
        stubber = Stubber(streams)
        stubber.add_client_error("get_shard_iterator", "TrimmedDataAccessException", http_status_code=400)
        stubber.activate()

        def repair() -> bool:
            report = reconcile(
                env.dynamodb, env.stack.table_name, env.search, env.writer(), prefix=env.prefix, repair=True
            )
            return report.repaired is not None and report.repaired.failed == 0

        return Redriver(
            env.dynamodb, env.stack.table_name, env.sqs, streams, env.search, env.writer(), prefix=env.prefix,
            reconcile_fallback=repair if fallback else None,
        )  # fmt: skip

    kept = redriver(fallback=False).run(queues)
    assert (kept.received, kept.deleted, kept.kept) == (2, 0, 2)
    assert _searchable(env) == set()

    done = redriver(fallback=True).run(queues)
    assert done.reconciled
    assert (done.deleted, done.kept) == (1, 1)  # the unreadable message stays for a human
    assert any("not JSON" in problem for problem in done.problems)
    assert _searchable(env) == {"t1"}
    assert env.queue_depth(env.stack.on_failure_queue_url or "") == 0
    assert env.queue_depth(env.stack.dead_letter_queue_url) == 1


def test_unknown_messages_are_refused_clearly() -> None:
    with pytest.raises(DeadLetterError, match="neither a projector dead letter"):
        parse_body(json.dumps({"hello": "world"}))
    with pytest.raises(DeadLetterError, match="not JSON"):
        parse_body("<xml/>")


def test_a_stream_range_yields_exactly_its_records(ops_env: OpsEnv) -> None:
    env = ops_env
    for n in range(6):
        env.put_listing(f"r{n}")
    env.delete_listing("r3")
    streams = streams_client(env.stack)
    [shard] = streams.describe_stream(StreamArn=env.stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=env.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    info = {"streamArn": env.stream_arn, "shardId": shard["ShardId"]}
    refs = read_stream_range(
        streams, {**info, "startSequenceNumber": numbers[2], "endSequenceNumber": numbers[4]}
    )
    assert [ref.key["pk"]["S"] for ref in refs] == ["LISTING#r2", "LISTING#r3", "LISTING#r4"]
    removed = read_stream_range(
        streams, {**info, "startSequenceNumber": numbers[6], "endSequenceNumber": numbers[6]}
    )
    assert removed[0].known_version == int(records[6]["dynamodb"]["OldImage"]["version"]["N"])
