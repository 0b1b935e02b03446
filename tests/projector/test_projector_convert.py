"""Lossless conversion of every DynamoDB type, from records moto's stream really produces."""

from __future__ import annotations

import base64
import json
import random
from decimal import Decimal

import pytest
from projector_testkit import Env
from support.items import listing

from projector import convert
from projector.documents import document_of
from projector.entities import LISTING, Entity, Field
from projector.exceptions import ConversionError

EVERY_TYPE = {
    "pk": {"S": "MISC#1"},
    "sk": {"S": "MISC"},
    "s": {"S": "héllo ✓"},
    "n_int": {"N": "42"},
    "n_neg": {"N": "-7"},
    "n_dec": {"N": "12.5"},
    "n_big_int": {"N": "12345678901234567890123456789012345678"},
    "n_precise": {"N": "0.12345678901234567890123456789"},
    "b": {"B": base64.b64encode(b"\x00\x01binary").decode()},
    "bool": {"BOOL": True},
    "null": {"NULL": True},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"BOOL": False}]},
    "m": {"M": {"inner": {"M": {"deep": {"N": "3.25"}}}}},
    "ss": {"SS": ["pear", "apple"]},
    "ns": {"NS": ["10", "2", "-1.5"]},
    "bs": {"BS": [base64.b64encode(b"zz").decode(), base64.b64encode(b"aa").decode()]},
}


def test_every_type_from_a_real_stream_record(env: Env) -> None:
    # boto3 wants raw bytes for B/BS; the stream gives base64 text back, as Lambda does.
    item = dict(EVERY_TYPE)
    item["b"] = {"B": b"\x00\x01binary"}
    item["bs"] = {"BS": [b"zz", b"aa"]}
    env.table.put(item)
    (record,) = env.table.read()
    document = convert.item(record["dynamodb"]["NewImage"])
    assert document["s"] == "héllo ✓"
    assert document["n_int"] == 42 and isinstance(document["n_int"], int)
    assert document["n_neg"] == -7
    assert document["n_dec"] == 12.5
    assert document["n_big_int"] == 12345678901234567890123456789012345678
    assert document["n_precise"] == "0.12345678901234567890123456789"
    assert base64.b64decode(document["b"]) == b"\x00\x01binary"
    assert document["bool"] is True and document["null"] is None
    assert document["l"] == ["a", 1, False]
    assert document["m"] == {"inner": {"deep": 3.25}}
    assert document["ss"] == ["apple", "pear"]
    assert document["ns"] == [-1.5, 2, 10]
    assert [base64.b64decode(value) for value in document["bs"]] == [b"aa", b"zz"]
    # The document is plain JSON and its numbers read back to exactly the stored decimals.
    text = json.dumps(document)
    back = json.loads(text, parse_float=Decimal)
    assert Decimal(str(back["n_big_int"])) == Decimal("12345678901234567890123456789012345678")
    assert Decimal(back["n_precise"]) == Decimal("0.12345678901234567890123456789")
    assert back["n_dec"] == Decimal("12.5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("-0", 0),
        ("9007199254740993", 9007199254740993),  # 2^53 + 1: exact as an int, not a double
        ("1.5", 1.5),
        ("12.50", 12.5),
        ("1E+2", 100),
        ("1e-130", 1e-130),
        (
            "9.9999999999999999999999999999999999999E+125",
            int(Decimal("9.9999999999999999999999999999999999999E+125")),
        ),
        ("0.1", 0.1),
        ("3.14159265358979323846", "3.14159265358979323846"),
    ],
)
def test_numbers_are_exact(text: str, expected: object) -> None:
    converted = convert.number(text)
    assert converted == expected
    assert type(converted) is type(expected)
    # Whatever the representation, the decimal value is the stored one.
    assert Decimal(str(converted)) == Decimal(text)


@pytest.mark.parametrize(
    "bad",
    [
        {"N": "abc"},
        {"N": "1_000"},
        {"N": "NaN"},
        {"N": "Infinity"},
        {"N": 5},
        {"S": 5},
        {"X": "1"},
        {},
        {"S": "a", "N": "1"},
        {"NS": ["1", "x"]},
        {"SS": "notalist"},
        {"NULL": False},
        {"BOOL": "true"},
        {"M": []},
    ],
)
def test_malformed_values_raise_a_typed_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConversionError):
        convert.value(bad)


def test_an_unrepresentable_price_never_fails_the_batch(env: Env) -> None:
    precise = "1234.5678901234567890123456789"
    env.table.put(listing("n1", 5, price=precise))
    env.table.put(listing("n2", 5, price="99999999999999999999999999999999999999"))
    assert env.invoke(env.table.read()) == {"batchItemFailures": []}
    first = env.search.get("n1")
    second = env.search.get("n2")
    assert first is not None and second is not None
    assert first["_source"]["price"] == precise  # exact text kept in _source
    assert second["_source"]["price"] == 99999999999999999999999999999999999999
    assert env.dead_letters() == []


@pytest.mark.parametrize(
    "text", ["-0.5", "123456789.012345", "-12345678.012345", "0.000000000000001", "1.1_1", " 1.5"]
)
def test_the_short_decimal_fast_path_is_exact_or_refuses(text: str) -> None:
    if "_" in text or " " in text:
        with pytest.raises(ConversionError):
            convert.number(text)
        return
    converted = convert.number(text)
    assert Decimal(repr(converted)) == Decimal(text)


def test_the_fast_paths_give_what_the_exact_path_gives() -> None:
    """:func:`convert.number` takes integers and short decimals without the exactness checks; on texts
    of every length and sign around its limits it must give the exact path's value, of the same type."""
    rng = random.Random(7)
    texts = ["0", "1", "-0", "0.0", "-0.5", "00.5", "1.", ".5", "-.5", "1.2.3", "--1.5", "1-.5", "+1.5",
             " 1.5", "1_0.5", "1.5e3", "1.5E-3", "\u0661.\u0665"]  # fmt: skip
    for _ in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        point = rng.randint(0, len(digits))
        unsigned = f"{digits[:point]}.{digits[point:]}" if rng.random() < 0.7 else digits
        text = rng.choice(["", "-"]) + unsigned
        texts.append(text)
    for text in texts:
        try:
            expected = convert._exact_number(text)
        except ConversionError:
            with pytest.raises(ConversionError):
                convert.number(text)
            continue
        converted = convert.number(text)
        assert (converted, type(converted)) == (expected, type(expected)), text


def test_a_document_holds_the_projected_attributes_present_in_the_item_in_rule_order() -> None:
    full = listing("d1", 3)
    assert list(document_of(LISTING, full, "d1", 3)) == list(LISTING.template)
    absent = ("description", "tags", "city")
    sparse = {key: value for key, value in full.items() if key not in absent}
    document = document_of(LISTING, sparse, "d1", 3)
    # Absent attributes are absent from the document (not null), and the copied template is untouched.
    assert list(document) == [name for name in LISTING.template if name not in absent]
    assert document["id"] == "d1" and document["version"] == 3 and document["price"] == 1250.5
    assert set(LISTING.template.values()) == {None}


def test_two_fields_with_one_document_name_are_refused() -> None:
    with pytest.raises(ValueError, match="share a document name"):
        Entity("Thing", LISTING.family, 1, (Field("a", "x"), Field("b", "x")), "pk", "THING#")
