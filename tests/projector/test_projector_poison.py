"""Records that can never be projected are dead-lettered one by one, never an exception for the batch;
and collapse converts only a key's newest state, falling back to the next newest when that one is poison.

Malformed attribute shapes cannot be written through DynamoDB (boto3 and moto refuse them), so those
records are real stream records from moto, edited afterwards, as a buggy producer or replay tool would.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from projector_testkit import Env
from support.items import listing

from projector import convert
from projector.exceptions import ConversionError, PoisonRecordError
from projector.identity import identify


def _one_record(env: Env, item: dict[str, Any]) -> dict[str, Any]:
    env.table.put(item)
    (record,) = env.table.read()
    return record


@pytest.mark.parametrize(
    ("attribute", "bad", "code"),
    [
        ("version", "3", "invalid_version"),  # an attribute value that is not an object
        ("version", {"N": "²"}, "invalid_version"),  # str.isdigit() says yes, int() says no
        ("version", {"N": "0"}, "invalid_version"),
        ("version", {"N": "007"}, None),  # leading zeros: still the number 7
        ("id", ["x"], "invalid_id"),
        ("id", {"S": ""}, "invalid_id"),
        ("type", "Listing", "invalid_attribute_value"),
        ("type", {"N": "1"}, "skipped"),  # a well-formed type that is not a projected one
        ("price", {"N": "١٢"}, "invalid_attribute_value"),  # Arabic-Indic digits
        ("price", {"N": "1.2.3"}, "invalid_attribute_value"),
        ("tags", {"L": [{"S": "ok"}, "bare"]}, "invalid_attribute_value"),
        ("location", {"M": {"lat": {"N": "x"}, "lon": {"N": "1"}}}, "invalid_attribute_value"),
        ("title", 5, "invalid_attribute_value"),
    ],
)
def test_malformed_records_are_dead_lettered_and_the_rest_indexed(
    env: Env, attribute: str, bad: object, code: str | None
) -> None:
    record = _one_record(env, listing("bad", 3))
    record["dynamodb"]["NewImage"][attribute] = bad
    env.table.put(listing("good", 4))
    records = [record, *env.table.read()]
    assert env.invoke(records) == {"batchItemFailures": []}
    letters = env.dead_letters()
    if code is None or code == "skipped":
        assert letters == []
        assert env.search.ids() == (["bad", "good"] if code is None else ["good"])
        return
    assert env.search.ids() == ["good"]
    (letter,) = letters
    assert letter["error"]["code"] == code
    assert letter["record"] == record


def test_a_malformed_tombstone_time_uses_now(env: Env) -> None:
    env.table.put(listing("t", 5))
    env.table.delete("LISTING#t", "LISTING")
    insert, remove = env.table.read()
    remove["dynamodb"]["ApproximateCreationDateTime"] = "yesterday"
    assert env.invoke([insert, remove]) == {"batchItemFailures": []}
    tombstone = env.search.get("t")
    assert tombstone is not None and tombstone["_version"] == 6
    assert tombstone["_source"]["deletedAt"].startswith("20")


def test_a_poison_newest_state_falls_back_to_the_next_newest(env: Env) -> None:
    env.table.put(listing("k", 1, title="first"))
    env.table.put(listing("k", 2, title="second"))
    env.table.put(listing("k", 3, title="third"))
    first, second, third = env.table.read()
    third["dynamodb"]["NewImage"]["price"] = {"N": "not a number"}
    assert env.invoke([first, second, third]) == {"batchItemFailures": []}
    document = env.search.get("k")
    assert document is not None
    assert document["_version"] == 2 and document["_source"]["title"] == "second"
    (letter,) = env.dead_letters()
    assert letter["record"] == third and letter["error"]["code"] == "invalid_attribute_value"


def test_a_superseded_malformed_record_is_replaced_not_dead_lettered(env: Env) -> None:
    env.table.put(listing("s", 1))
    env.table.put(listing("s", 2, title="fixed"))
    older, newer = env.table.read()
    older["dynamodb"]["NewImage"]["price"] = {"N": "not a number"}
    assert env.invoke([older, newer]) == {"batchItemFailures": []}
    document = env.search.get("s")
    assert document is not None and document["_source"]["title"] == "fixed"
    assert env.dead_letters() == []


def test_identify_names_the_document_without_converting_it(env: Env) -> None:
    record = _one_record(env, listing("i", 9))
    record["dynamodb"]["NewImage"]["price"] = {"N": "never looked at"}
    identity = identify(record)
    assert identity is not None
    entity, doc_id, version, _, tombstone = identity
    assert (entity.name, doc_id, version, tombstone) == ("Listing", "i", 9, False)
    broken = copy.deepcopy(record)
    broken["dynamodb"] = "not an object"
    with pytest.raises(PoisonRecordError):
        identify(broken)


TYPED_CASES: list[tuple[Any, list[Any]]] = [  # values include malformed shapes, e.g. a bare string
    (
        convert.number_value,
        [{"N": "12"}, {"N": "-3"}, {"N": "0.1"}, {"N": "1e3"}, {"N": "0.12345678901234567890"},
         {"S": "12"}, {"N": 12}, {"N": "12", "S": "x"}, {"N": "abc"}, {"N": "1 "}, {"N": "+1.5"}, "12"],
    ),
    (
        convert.string_list,
        [{"L": [{"S": "a"}, {"S": "b"}]}, {"L": []}, {"SS": ["b", "a"]}, {"L": [{"S": "a"}, {"N": "1"}]},
         {"L": [{"S": 1}]}, {"L": ["a"]}, {"L": "a"}, {"L": [], "S": "x"}],
    ),
    (
        convert.lat_lon,
        [{"M": {"lat": {"N": "52.5"}, "lon": {"N": "-13.4"}}}, {"M": {"lat": {"N": "1"}}},
         {"M": {"lat": {"S": "1"}, "lon": {"N": "2"}}},
         {"M": {"lat": {"N": "1"}, "lon": {"N": "2"}, "x": {"N": "3"}}},
         {"M": {"lat": {"N": "x"}, "lon": {"N": "2"}}}, {"L": []}, {"M": "x"},
         {"M": {"lat": {"N": "1"}, "lon": {"N": "2"}}, "S": "x"},
         {"M": {"lat": {"N": "1", "S": "x"}, "lon": {"N": "2"}}},
         {"M": {"lat": {"N": "1"}, "lon": {"N": "2", "NULL": True}}}],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("converter", "value"), [(converter, value) for converter, values in TYPED_CASES for value in values]
)
def test_typed_converters_agree_with_the_generic_one(converter: Any, value: Any) -> None:
    try:
        expected = convert.value(value)
    except ConversionError:
        with pytest.raises(ConversionError):
            converter(value)
        return
    converted = converter(value)
    assert converted == expected and type(converted) is type(expected)


def test_a_review_without_an_id_attribute_gets_its_id_from_both_keys() -> None:
    """A review's key is (listing, author): a REMOVE carrying only `Keys` must still name the document the
    API created (`<listingId>.<author>`), not the author alone, or its tombstone misses the document."""
    keys = {
        "pk": {"S": "LISTING#l1"},
        "sk": {"S": "REVIEW#bob"},
        "type": {"S": "Review"},
        "version": {"N": "4"},
    }
    record = {"eventName": "REMOVE", "dynamodb": {"Keys": keys}}
    identity = identify(record)
    assert identity is not None
    entity, doc_id, version, _, tombstone = identity
    assert (entity.name, doc_id, version, tombstone) == ("Review", "l1.bob", 5, True)
    assert entity.key_of(doc_id) == {"pk": "LISTING#l1", "sk": "REVIEW#bob"}
    assert entity.key_of("no-separator") is None
