"""The bulk writer's per-item outcomes against osmem, and logging of failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from projector_testkit import Env, Scripted
from support.items import listing

from devstack.servers import ChildServer, free_port
from projector.bulk import BulkAction, BulkWriter, Outcome, RetryPolicy, outcome_of
from projector.indices import ensure_indices
from projector.transport import Transport


def test_each_item_outcome(osmem: ChildServer) -> None:
    transport = Transport(osmem.url)
    ensure_indices(transport, "outcomes-")
    index = "outcomes-reviews-v1"
    writer = BulkWriter(transport)
    first = writer.write(
        [
            BulkAction(index, "a", 5, {"id": "a", "rating": 4}),
            BulkAction(index, "b", 5, {"id": "b", "rating": "not a number"}),
            BulkAction(index, "c", 5, {"id": "c", "unknown_field": 1}),
            BulkAction(index, "missing", 9),  # delete of a missing document
        ]
    ).items
    assert [result.outcome for result in first] == [
        Outcome.INDEXED,
        Outcome.POISON,
        Outcome.POISON,
        Outcome.DELETED,
    ]
    assert first[1].status == 400 and first[1].error_type == "mapper_parsing_exception"
    assert first[1].reason and "rating" in first[1].reason  # the reason survives the writer's filter_path
    assert first[2].error_type == "strict_dynamic_mapping_exception"
    assert first[3].status == 404
    written = writer.write(
        [
            BulkAction(index, "a", 5, {"id": "a", "rating": 4}),  # duplicate
            BulkAction(index, "a", 4, {"id": "a", "rating": 1}),  # older
            BulkAction(index, "a", 6),  # newer delete
        ]
    )
    again = written.items
    assert [result.outcome for result in again] == [Outcome.STALE, Outcome.STALE, Outcome.DELETED]
    assert again[0].status == 409 and again[0].error_type == "version_conflict_engine_exception"
    assert written.stats.requests == 1


def _answer(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


_CREATED = b'{"index":{"_index":"x","_id":"%s","_version":5,"result":"created","status":201}}'


@pytest.mark.parametrize(
    ("body", "statuses"),
    [
        # What OpenSearch answers through the writer's filter_path: recognised without parsing.
        (b'{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":200}}]}', [200, 200]),
        # Unfiltered; an id holding the text "status": (escaped in JSON) must not count as an item.
        (
            b'{"took":3,"errors":false,"items":['
            + _CREATED % b"a"
            + b","
            + _CREATED % b'b\\"status\\":1'
            + b"]}",
            [200, 200],
        ),
        # Other formatting is read item by item.
        (
            b'{\n  "errors" : false,\n  "items" : [{"index":{"status":201}}, {"index":{"status":201}}]\n}',
            [201, 201],
        ),
        (
            b'{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":409,"error":{"type":"v"}}}]}',
            [201, 409],
        ),
    ],
)
def test_bulk_answers_are_read_item_by_item_unless_none_failed(
    scripted: Scripted, body: bytes, statuses: list[int]
) -> None:
    server = scripted([_answer(body)])
    writer = BulkWriter(Transport(server.url))
    results = writer.write([BulkAction("x", "a", 5, {"id": "a"}), BulkAction("x", "b", 5, {"id": "b"})]).items
    assert [result.status for result in results] == statuses
    assert results[0].outcome is Outcome.INDEXED


@pytest.mark.parametrize(
    "body",
    [
        b'{"errors":false,"items":[{"index":{"status":201}}]}',  # one item for two actions
        b'{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}},{"index":{"status":201}}]}',
        b'{"errors":false,"items":{"index":{"status":201}}}',
        b"<html>proxy error</html>",
        b'["errors"]',
    ],
)
def test_a_bulk_answer_that_does_not_match_the_request_is_retried_then_failed(
    scripted: Scripted, body: bytes
) -> None:
    server = scripted([_answer(body)] * 50)
    writer = BulkWriter(Transport(server.url), retry=RetryPolicy(base_seconds=0.01, min_request_seconds=0.05))
    actions = [BulkAction("x", "a", 5, {"id": "a"}), BulkAction("x", "b", 5, {"id": "b"})]
    written = writer.write(actions, deadline=time.monotonic() + 0.5)
    assert [result.outcome for result in written.items] == [Outcome.FAILED, Outcome.FAILED]
    assert {result.error_type for result in written.items} == {"bad_response"}
    assert written.stats.requests > 1  # retried first


def test_unreachable_opensearch_is_reported_after_retrying_until_the_deadline() -> None:
    writer = BulkWriter(Transport(f"http://127.0.0.1:{free_port()}"), retry=RetryPolicy(base_seconds=0.01))
    started = time.monotonic()
    (result,) = writer.write([BulkAction("x", "1", 1, {"id": "1"})], deadline=started + 1.0).items
    assert result.outcome is Outcome.FAILED and result.error_type == "connection_error"
    assert result.attempts > 1
    assert time.monotonic() - started < 2.5  # stopped at the deadline (slack for a busy machine)


def test_opensearch_down_fails_the_batch_records(env: Env, configure: Callable[..., None]) -> None:
    configure(OPENSEARCH_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    env.table.put(listing("down", 1))
    records = env.table.read()
    response = env.invoke(records, remaining_ms=3000)
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}


@pytest.mark.parametrize("log_contents", ["false", "true"])
def test_poison_logs_carry_the_sequence_number_and_contents_only_when_allowed(
    env: Env, configure: Callable[..., None], caplog: pytest.LogCaptureFixture, log_contents: str
) -> None:
    configure(LOG_ITEM_CONTENTS=log_contents)
    item = listing("secret", 1, description={"S": "private phone 555-0100"})
    del item["version"]
    env.table.put(item)
    records = env.table.read()
    with caplog.at_level(logging.INFO, logger="projector"):
        assert env.invoke(records) == {"batchItemFailures": []}
    (entry,) = [record for record in caplog.records if record.getMessage().startswith("poison record")]
    assert entry.__dict__["sequence_number"] == records[0]["dynamodb"]["SequenceNumber"]
    assert entry.__dict__["code"] == "missing_version"
    logged = repr(entry.__dict__)
    assert ("555-0100" in logged) is (log_contents == "true")


def test_a_dead_letter_over_the_sqs_limit_keeps_keys_and_sequence_number() -> None:
    from projector.dlq import DeadLetter

    record: dict[str, Any] = {
        "eventName": "MODIFY",
        "dynamodb": {
            "Keys": {"pk": {"S": "LISTING#big"}, "sk": {"S": "LISTING"}},
            "NewImage": {"description": {"S": "x" * 5000}},
            "OldImage": {"description": {"S": "y" * 5000}},
            "SequenceNumber": "123",
        },
    }
    import json

    small = json.loads(DeadLetter(record, "code", "reason").body())
    assert small["truncated"] is False and small["record"] == record
    cut = json.loads(DeadLetter(record, "code", "reason").body(limit=2000))
    assert cut["truncated"] is True
    assert cut["record"]["dynamodb"] == {"Keys": record["dynamodb"]["Keys"], "SequenceNumber": "123"}
    assert cut["error"] == {"code": "code", "reason": "reason", "status": None}


@pytest.mark.parametrize(
    ("status", "error_type", "delete", "outcome"),
    [
        (200, None, False, Outcome.INDEXED),
        (201, None, False, Outcome.INDEXED),
        (200, None, True, Outcome.DELETED),
        (404, "not_found", True, Outcome.DELETED),
        (404, "not_found", False, Outcome.POISON),
        (409, "version_conflict_engine_exception", False, Outcome.STALE),
        (409, "version_conflict_engine_exception", True, Outcome.STALE),
        (400, "mapper_parsing_exception", False, Outcome.POISON),
        (403, "security_exception", False, Outcome.POISON),
        (404, "index_not_found_exception", False, Outcome.FAILED),
        (429, "rejected_execution_exception", False, Outcome.FAILED),
        (429, "es_rejected_execution_exception", True, Outcome.FAILED),
        (500, None, False, Outcome.FAILED),
        (503, None, False, Outcome.FAILED),
        (0, None, False, Outcome.FAILED),
    ],
)
def test_outcome_of_an_item(status: int, error_type: str | None, delete: bool, outcome: Outcome) -> None:
    assert outcome_of(status, error_type, delete) is outcome


def test_the_writer_reads_every_item_through_the_one_mapping(scripted: Scripted) -> None:
    """Each item of an answer gets the outcome outcome_of names; retryable ones are sent again."""
    answers = [
        (200, None),
        (201, None),
        (409, "version_conflict_engine_exception"),
        (404, "not_found"),
        (400, "mapper_parsing_exception"),
        (503, "unavailable_shards_exception"),
    ]
    items = b",".join(
        b'{"index":{"status":%d%s}}'
        % (status, b',"error":{"type":"%s","reason":"r"}' % kind.encode() if kind else b"")
        for status, kind in answers
    )
    retried = b'{"errors":false,"items":[{"index":{"status":201}}]}'
    server = scripted([_answer(b'{"errors":true,"items":[%s]}' % items), _answer(retried)])
    actions = [BulkAction("x", str(n), 5, {"id": str(n)}) for n in range(len(answers) - 1)]
    actions.insert(3, BulkAction("x", "gone", 5))  # the 404 answers a delete
    written = BulkWriter(Transport(server.url), retry=RetryPolicy(base_seconds=0.0)).write(actions)
    expected = [
        outcome_of(status, kind, action.op == "delete")
        for (status, kind), action in zip(answers, actions, strict=True)
    ]
    assert expected[-1] is Outcome.FAILED  # retried: the second answer says it landed
    assert [item.outcome for item in written.items] == [*expected[:-1], Outcome.INDEXED]
    assert written.stats.requests == 2 and written.stats.retried_items == 1
    assert b'"_id":"4"' in server.requests[1] and server.requests[1].count(b'"_id"') == 1


def test_a_dead_letter_fits_the_queue_whatever_is_large() -> None:
    """A MODIFY of a 400 KB item carries two images; a reason can be long too. The letter keeps what
    identifies the item, within the queue's 256 KiB (terraform/definitions/queues.json)."""
    import json

    from projector.dlq import MAX_MESSAGE_BYTES, DeadLetter

    keys = {"pk": {"S": "LISTING#big"}, "sk": {"S": "LISTING"}}
    record: dict[str, Any] = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        "dynamodb": {
            "Keys": keys,
            "NewImage": {"description": {"S": "é" * 190_000}},
            "OldImage": {"description": {"S": "y" * 190_000}},
            "SequenceNumber": "123",
        },
        "extra": "z" * 300_000,  # whatever else a record may carry
    }
    context = {"entity": "Listing", "doc_id": "big", "version": 7}
    for reason in ("short", "r" * 400_000):
        body = DeadLetter(record, "mapper_parsing_exception", reason, 400, context).body()
        assert len(body.encode()) <= MAX_MESSAGE_BYTES
        letter = json.loads(body)
        assert letter["truncated"] is True
        assert letter["record"]["dynamodb"] == {"Keys": keys, "SequenceNumber": "123"}
        assert letter["record"]["eventName"] == "MODIFY" and letter["record"]["eventID"] == "e1"
        assert letter["error"]["code"] == "mapper_parsing_exception" and letter["error"]["status"] == 400
        assert letter["error"]["reason"] == reason[:1000]
        assert (letter["entity"], letter["doc_id"], letter["version"]) == ("Listing", "big", 7)


def test_an_opensearch_rejection_is_logged_by_type_and_field_never_by_value(
    env: Env, configure: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """OpenSearch's mapper errors preview the rejected value; the log says which field, the dead letter
    keeps the whole reason (issue 15, item 5)."""
    configure(LOG_ITEM_CONTENTS="false")
    item = listing("rejected", 1)
    item["price"] = {"S": "call 555-0199 for the price"}  # a float field: OpenSearch refuses the text
    env.table.put(item)
    records = env.table.read()
    with caplog.at_level(logging.INFO, logger="projector"):
        assert env.invoke(records) == {"batchItemFailures": []}
    (entry,) = [record for record in caplog.records if record.getMessage().startswith("poison record")]
    assert entry.__dict__["code"] == "mapper_parsing_exception"
    assert entry.__dict__["field"] == "price"
    assert "555-0199" not in repr(entry.__dict__) and "reason" not in entry.__dict__
    (letter,) = env.dead_letters()
    assert "555-0199" in letter["error"]["reason"], "the dead letter keeps OpenSearch's reason as it was"
