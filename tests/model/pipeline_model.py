"""A model of the write side and the stream, run by Hypothesis against the real pipeline.

`PipelineMachine` writes listings and reviews through moto's DynamoDB with the version rule of
docs/design.md §3 (conditional creates, updates and deletes; TTL expiry by devstack's sweeper; re-creates
of deleted keys), reads the table's real stream, and plays Lambda's event source mapping itself, badly on
purpose: batches of odd sizes, the last batch delivered again, old ranges replayed late, and each
invocation may meet whole-request 429/500s, dropped or hung connections, per-item 429/500s that outlast
the invocation, an outage, or a poison document (400: the projector dead-letters it). The projector is
`projector.handler.lambda_handler`, in-process, talking to real osmem through devstack's fault proxy.

Invariants:

* after every invocation: each record of the batch is in `batchItemFailures`, or in the dead-letter queue,
  or its effect (or a newer one of the same key) is durable in the index — checked on osmem directly,
  not through the proxy; and a dead letter names only a document the model made poison;
* at the end (teardown), after the stream is drained the way Lambda would (from the checkpoint) and the
  dead letters are redriven: the read alias equals the table (ids, versions, contents); then the whole
  stream is replayed late once more and the read alias must not move (nothing deleted comes back).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from opensearchpy import OpenSearch
from support.items import listing, review
from support.lambda_context import lambda_context
from support.projector_env import configure_projector, projector_environment
from support.tables import create_table

from devstack.faultproxy import FaultProxy
from devstack.ttl import TTL_IDENTITY, ServiceDeletes, TtlSweeper
from ops.redrive import Redriver
from ops.writer import ProjectionWriter, transport_for
from projector import handler
from projector.documents import document_of
from projector.entities import BY_NAME, ENTITIES
from projector.indices import ensure_indices
from stackclient.items import new_version
from stackclient.lambda_wire import lambda_record, wire_item
from stackclient.stack import Stack, dynamodb_client, opensearch_client, sqs_client, streams_client

Key = tuple[str, str]  # (entity name, document id)
Record = dict[str, Any]

# Few keys, so that writes, deletes, expiries and re-creates of one key interleave within 30 steps.
LISTINGS = ("l0", "l1", "l2")
REVIEWS = ("l0.r0", "l0.r1")  # reviews of listing l0 by authors r0 and r1 (ids: docs/design.md §1)
KEYS: tuple[Key, ...] = (*(("Listing", i) for i in LISTINGS), *(("Review", i) for i in REVIEWS))

# What an invocation meets. Scripted faults hit once and the projector's retries get through; the
# lasting ones (per-item failures, outage) outlive a short invocation and end in batchItemFailures;
# poison is a 400 for one document of the batch, which the projector dead-letters.
FAULTS = ("none", "none", "429", "500", "drop", "timeout", "items429", "items500", "outage", "poison")
LASTING = {"items429", "items500", "outage"}
# The projector keeps 2 s of an invocation in reserve: 2.4 s leaves it ~0.4 s of retries, so a lasting
# fault makes records fail for real; a normal invocation has all the time it needs.
SHORT_MS = 2_400
LONG_MS = 20_000
PAST_EPOCH = 1_700_000_000  # a TTL in the past: the sweeper expires the item on its next pass


@dataclass
class World:
    """What outlives an example: servers, the proxy, pytest's monkeypatch, tallies for the report."""

    moto_url: str
    osmem_url: str
    proxy: FaultProxy
    monkeypatch: pytest.MonkeyPatch
    tally: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, amount: int = 1) -> None:
        self.tally[name] = self.tally.get(name, 0) + amount


@dataclass
class Row:
    version: int
    expiring: bool


def record_key(record: Record) -> Key:
    change = record["dynamodb"]
    image = change.get("NewImage") or change["OldImage"]
    return image["type"]["S"], image["id"]["S"]


def record_version(record: Record) -> int:
    """The external version the record's effect has in the index (a REMOVE: its tombstone's)."""
    change = record["dynamodb"]
    if record["eventName"] == "REMOVE":
        return int(change["OldImage"]["version"]["N"]) + 1
    return int(change["NewImage"]["version"]["N"])


class PipelineMachine(RuleBasedStateMachine):
    """One example: a fresh table, dead-letter queue and indices, then random steps (module docstring)."""

    world: World  # set by `machine_factory`

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        name = f"model-{uuid.uuid4().hex[:8]}"
        self.prefix = f"{name}-"
        self.stack = Stack(
            region="us-east-1",
            table_name=name,
            search_endpoint=world.osmem_url,
            dead_letter_queue_url="pending",
            dynamodb_endpoint=world.moto_url,
            sqs_endpoint=world.moto_url,
            search_auth="none",
            source="test",
        )
        self.dynamodb = dynamodb_client(self.stack)
        self.streams = streams_client(self.stack)
        self.sqs = sqs_client(self.stack)
        self.search: OpenSearch = opensearch_client(self.stack)
        self.stream_arn = create_table(self.dynamodb, name)
        self.dlq = self.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        # Fresh indices per example: osmem slows after ~20k updates to one index (FACTS.md).
        ensure_indices(transport_for(world.osmem_url, "none", "us-east-1"), self.prefix)
        environment = projector_environment(
            world.proxy.url,
            self.dlq,
            self.prefix,
            LOG_LEVEL="ERROR",
        )
        configure_projector(world.monkeypatch, **environment)
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
        self.iterator: str | None = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.deletes = ServiceDeletes()
        self.sweeper = TtlSweeper(self.dynamodb, name, "expiresAt", ["pk", "sk"], self.deletes)

        self.table: dict[Key, Row] = {}
        self.deleted: set[Key] = set()
        self.stream: list[Record] = []
        self.cursor = 0  # the event source mapping's checkpoint: records before it are done
        self.last_batch: list[Record] = []
        self.poison_ids: set[str] = set()
        self.dead_letters: dict[str, str] = {}  # sequence number → receipt handle

    # -- writes (docs/design.md §3) -------------------------------------------------------------------

    def _item(self, key: Key, version: int, text: str, expiring: bool) -> dict[str, Any]:
        extra: dict[str, Any] = {"expiresAt": {"N": str(PAST_EPOCH)}} if expiring else {}
        entity, doc_id = key
        if entity == "Listing":
            return listing(doc_id, version, title=text, **extra)
        listing_id, author = doc_id.split(".")
        return review(listing_id, author, version, rating=str(1 + len(text) % 5), text={"S": text}, **extra)

    def _put(self, key: Key, text: str, expiring: bool, expected: int | None) -> None:
        version = new_version(expected)
        if expected is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(sk)"}
        else:
            condition = {
                "ConditionExpression": "version = :e",
                "ExpressionAttributeValues": {":e": {"N": str(expected)}},
            }
        item = self._item(key, version, text, expiring)
        self.dynamodb.put_item(TableName=self.stack.table_name, Item=item, **condition)
        self.table[key] = Row(version, expiring)
        self._read_stream()

    @precondition(lambda self: len(self.table) < len(KEYS))
    @rule(data=st.data(), text=st.text("abc xyz", min_size=1, max_size=8), expiring=st.booleans())
    def create(self, data: st.DataObject, text: str, expiring: bool) -> None:
        """Create, or re-create a deleted or expired key (its clock version outranks the tombstone)."""
        key = data.draw(st.sampled_from([key for key in KEYS if key not in self.table]), label="key")
        self.world.count("recreate" if key in self.deleted else "create")
        self._put(key, text, expiring, expected=None)

    @precondition(lambda self: bool(self.table))
    @rule(data=st.data(), text=st.text("abc xyz", min_size=1, max_size=8), expiring=st.booleans())
    def update(self, data: st.DataObject, text: str, expiring: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.table)), label="key")
        self.world.count("update")
        self._put(key, text, expiring, expected=self.table[key].version)

    @precondition(lambda self: bool(self.table))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.table)), label="key")
        keys = self._item(key, self.table[key].version, "", expiring=False)  # the item's own pk and sk
        self.dynamodb.delete_item(
            TableName=self.stack.table_name,
            Key={"pk": keys["pk"], "sk": keys["sk"]},
            ConditionExpression="version = :e",
            ExpressionAttributeValues={":e": {"N": str(self.table[key].version)}},
        )
        del self.table[key]
        self.deleted.add(key)
        self.world.count("delete")
        self._read_stream()

    @precondition(lambda self: any(row.expiring for row in self.table.values()))
    @rule()
    def ttl_sweep(self) -> None:
        """DynamoDB's TTL process (moto has none): expired items go, their REMOVEs marked as TTL's."""
        expired = {key for key, row in self.table.items() if row.expiring}
        assert self.sweeper.sweep() == len(expired)
        for key in expired:
            del self.table[key]
        self.deleted |= expired
        self.world.count("ttl_expiry", len(expired))
        self._read_stream()

    def _read_stream(self) -> None:
        while self.iterator is not None:
            answer = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = answer.get("NextShardIterator")
            for raw in answer["Records"]:
                record = lambda_record(raw, self.stream_arn)
                if raw["eventName"] == "REMOVE" and self.deletes.take(raw["dynamodb"]["Keys"]):
                    record["userIdentity"] = TTL_IDENTITY
                self.stream.append(record)
            if not answer["Records"]:
                return

    # -- deliveries (the event source mapping, misbehaving) -------------------------------------------

    # Rules that deliver never depend on the checkpoint in their preconditions or in the ranges they draw
    # from: where the checkpoint stands depends on which retries beat the invocation's deadline, and
    # Hypothesis must be able to replay the same choices (it refuses data generation that depends on
    # outcomes). Positions are drawn from a fixed range and folded onto the records there are.

    @precondition(lambda self: bool(self.stream))
    @rule(size=st.integers(1, 7), fault=st.sampled_from(FAULTS))
    def deliver(self, size: int, fault: str) -> None:
        """The next batch from the checkpoint; the checkpoint moves as Lambda's would."""
        batch = self.stream[self.cursor : self.cursor + size]
        if not batch:
            return  # everything is delivered: Lambda has nothing to invoke with
        failed = self._invoke(batch, fault)
        if failed:
            # Lambda retries from the lowest reported sequence number (successful records after it too).
            self.cursor += min(n for n, record in enumerate(batch) if self._sequence(record) in failed)
        else:
            self.cursor += len(batch)
        self.last_batch = batch

    @precondition(lambda self: bool(self.stream))
    @rule(fault=st.sampled_from(FAULTS))
    def duplicate(self, fault: str) -> None:
        """The last batch again, as after a retry whose first answer was lost."""
        if self.last_batch:
            self.world.count("duplicate")
            self._invoke(self.last_batch, fault)

    @precondition(lambda self: bool(self.stream))
    @rule(start=st.integers(0, 999), size=st.integers(1, 7), fault=st.sampled_from(FAULTS))
    def replay_late(self, start: int, size: int, fault: str) -> None:
        """An old range of the stream (before the checkpoint), delivered after newer records."""
        if self.cursor == 0:
            return
        first = start % self.cursor
        self.world.count("late_replay")
        self._invoke(self.stream[first : min(self.cursor, first + size)], fault)

    @staticmethod
    def _sequence(record: Record) -> str:
        sequence: str = record["dynamodb"]["SequenceNumber"]
        return sequence

    def _invoke(self, batch: list[Record], fault: str) -> set[str]:
        proxy = self.world.proxy
        if fault in ("429", "500", "drop", "timeout"):
            proxy.script(fault)
        elif fault in ("items429", "items500"):
            proxy.set(item_failure=0.5, item_status=int(fault[-3:]))
        elif fault == "outage":
            proxy.set(status_500=1.0)
        elif fault == "poison":
            doc_id = record_key(batch[0])[1]
            self.poison_ids.add(doc_id)
            proxy.set(fail_ids=(doc_id,), item_status=400)
        self.world.count(f"fault_{fault}")
        remaining = SHORT_MS if fault in LASTING else LONG_MS
        try:
            # A copy: the handler must not be able to change the stream the model replays later.
            answer = handler.lambda_handler({"Records": copy.deepcopy(batch)}, lambda_context(remaining))
        finally:
            proxy.clear()  # keeps the short hang_seconds the fixture set
        identifiers = [failure["itemIdentifier"] for failure in answer["batchItemFailures"]]
        assert all(identifiers), f"an empty itemIdentifier fails the whole batch: {answer}"
        failed = set(identifiers)
        self.world.count("reported_failed", len(failed))
        self._take_dead_letters()
        self._check_accounted(batch, failed)
        return failed

    def _take_dead_letters(self) -> None:
        """Move new dead letters out of sight (the model makes them visible again to redrive them)."""
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dlq, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                letter = json.loads(message["Body"])
                doc_id = record_key(letter["record"])[1]
                assert doc_id in self.poison_ids, (
                    f"dead letter for {doc_id}, which was never poison: {letter}"
                )
                self.dead_letters[letter["sequence_number"]] = message["ReceiptHandle"]
                self.world.count("dead_letters")

    def _held_versions(self, keys: set[Key]) -> dict[Key, int]:
        """The external version each key's document has in its concrete index (0: none), from osmem."""
        held: dict[Key, int] = {}
        for entity_name in {entity for entity, _ in keys}:
            index = BY_NAME[entity_name].index(self.prefix)
            ids = sorted(doc_id for entity, doc_id in keys if entity == entity_name)
            docs = self.search.mget(index=index, body={"ids": ids}, params={"_source": "false"})["docs"]
            for doc in docs:
                held[(entity_name, doc["_id"])] = int(doc["_version"]) if doc.get("found") else 0
        return held

    def _check_accounted(self, batch: list[Record], failed: set[str]) -> None:
        """Every record is reported failed, dead-lettered, or durable (itself or something newer)."""
        held = self._held_versions({record_key(record) for record in batch})
        # A record superseded within the batch is handled with its key's newest record (projector
        # README, collapse): when that one is dead-lettered, redrive re-reads the key, which covers both.
        lettered: dict[Key, int] = {}
        for record in batch:
            if self._sequence(record) in self.dead_letters:
                key = record_key(record)
                lettered[key] = max(lettered.get(key, 0), record_version(record))
        for record in batch:
            sequence = self._sequence(record)
            key = record_key(record)
            if sequence in failed or lettered.get(key, 0) >= record_version(record):
                continue
            assert held[key] >= record_version(record), (
                f"{record['eventName']} {key} at version {record_version(record)} was reported handled, "
                f"but the index holds version {held[key]}: the record was dropped"
            )

    # -- the end: drain, redrive, compare, replay everything late ------------------------------------

    def teardown(self) -> None:
        try:
            self._read_stream()
            self._drain()
            self._redrive()
            self._assert_converged("after the stream drained")
            # Nothing deleted comes back: the whole history once more, late, in batches of seven.
            for start in range(0, len(self.stream), 7):
                assert not self._invoke(self.stream[start : start + 7], "none")
            self._assert_converged("after the whole stream was replayed late")
            self.world.count("examples")
        finally:
            self._clean_up()

    def _drain(self) -> None:
        """Deliver from the checkpoint until the stream is done, as Lambda would with OpenSearch healthy."""
        invocations = 0
        while self.cursor < len(self.stream):
            invocations += 1
            assert invocations <= len(self.stream) + 5, "records keep failing with OpenSearch healthy"
            self.deliver(5, "none")

    def _redrive(self) -> None:
        if not self.dead_letters:
            return
        for receipt in self.dead_letters.values():
            self.sqs.change_message_visibility(QueueUrl=self.dlq, ReceiptHandle=receipt, VisibilityTimeout=0)
        writer = ProjectionWriter(
            transport_for(self.world.osmem_url, "none", "us-east-1"), {}, write_seconds=10.0
        )
        report = Redriver(
            self.dynamodb, self.stack.table_name, self.sqs, self.streams, self.search, writer, self.prefix
        ).run([self.dlq])
        assert report.received == len(self.dead_letters), report.as_json()
        assert report.kept == 0, report.as_json()
        self.world.count("redriven", report.deleted)

    def _assert_converged(self, when: str) -> None:
        expected: dict[Key, tuple[int, dict[str, Any]]] = {}
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.stack.table_name):
            for raw in page["Items"]:
                item = wire_item(raw)
                entity = BY_NAME[item["type"]["S"]]
                version = int(item["version"]["N"])
                document = document_of(entity, item, item["id"]["S"], version)
                expected[(entity.name, item["id"]["S"])] = (version, json.loads(json.dumps(document)))
        assert {key: version for key, (version, _) in expected.items()} == {
            key: row.version for key, row in self.table.items()
        }, "the table differs from the model"
        found: dict[Key, tuple[int, dict[str, Any]]] = {}
        for entity in ENTITIES:
            alias = entity.read_alias(self.prefix)
            self.search.indices.refresh(index=alias)
            hits = self.search.search(index=alias, body={"size": 100, "version": True})["hits"]["hits"]
            for hit in hits:
                found[(entity.name, hit["_id"])] = (int(hit["_version"]), hit["_source"])
        back = sorted(key for key in found if key not in expected and key in self.deleted)
        assert not back, f"{when}: deleted documents are searchable again: {back}"
        assert sorted(found) == sorted(expected), f"{when}: the read alias and the table hold other ids"
        for key, (version, document) in expected.items():
            assert found[key][0] == version, (
                f"{when}: {key} is at {found[key][0]} in the index, {version} in the table"
            )
            assert found[key][1] == document, f"{when}: {key}'s document differs from the table's item"

    def _clean_up(self) -> None:
        self.world.proxy.clear()
        handler.reset()
        self.search.indices.delete(index=f"{self.prefix}*")
        self.dynamodb.delete_table(TableName=self.stack.table_name)
        self.sqs.delete_queue(QueueUrl=self.dlq)


def machine_factory(world: World) -> type[PipelineMachine]:
    """A machine class bound to this test's world (Hypothesis builds one machine per example)."""

    class Bound(PipelineMachine):
        pass

    Bound.world = world
    return Bound


def elapsed(started: float) -> float:
    return round(time.monotonic() - started, 1)
