"""Lossless conversion of DynamoDB's typed JSON wire format (as in stream records) to JSON values.

| DynamoDB | JSON document                                                                  |
| -------- | ------------------------------------------------------------------------------ |
| S        | string                                                                         |
| N        | integer if integral; double if the double prints back the same decimal value;  |
|          | otherwise the exact decimal text as a string (never rounded, never an error)   |
| B        | base64 text, as on the wire                                                    |
| BOOL     | true / false                                                                   |
| NULL     | null                                                                           |
| L, M     | array, object (converted recursively)                                          |
| SS, BS   | sorted array of strings / base64 texts (sets have no order; sorting makes the  |
|          | document deterministic)                                                        |
| NS       | array sorted by numeric value, each number converted as N                      |

Hand-written rather than boto3's ``TypeDeserializer`` (the straightforward projector's main cost, see
projector/README.md, Performance; it returns ``Decimal``, which JSON cannot encode): this is one dispatch
per value and yields JSON-ready values directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from projector.exceptions import ConversionError

JsonValue: TypeAlias = Any
"""A value ``json.dumps`` encodes as is: str, int, float, bool, None, list, dict."""

AttributeValue: TypeAlias = Mapping[str, Any]
"""One typed wire value, such as ``{"N": "12.5"}``."""


def number(text: str) -> int | float | str:
    """Convert a DynamoDB number (its decimal text) without losing anything.

    Integers stay integers (Python ints are exact, and so is their JSON text). Other numbers become a
    double when the double's shortest representation is the same decimal value (``"12.50"`` → 12.5);
    numbers a double cannot carry exactly (``"0.12345678901234567890123"``) are kept as their exact
    decimal text, a JSON string, so no digit is ever lost and no record ever fails on a number.

    Raises
    ------
    ConversionError
        ``text`` is not a decimal number.
    """
    if text.__class__ is str:
        # The point first: a decimal then skips the integer test, and an integer the set test.
        if "." in text:
            if len(text) <= 16 and _PLAIN_DECIMAL.issuperset(text):
                # At most 15 digits and no exponent: a double carries every such decimal exactly (DBL_DIG).
                try:
                    return float(text)
                except ValueError:  # such as "1.2.3": the checks below name the problem
                    pass
        elif text.isdigit() and text.isascii():  # isdigit() alone also accepts digits of other scripts
            return int(text)
    return _exact_number(text)


_PLAIN_DECIMAL = frozenset("-.0123456789")


def _exact_number(text: str) -> int | float | str:
    """:func:`number` for every other form: negative integers, exponents, long or malformed texts."""
    if text.__class__ is not str:
        raise ConversionError(f"N value must be a string, got {type(text).__name__}")
    if not text.isascii():  # str.isdigit() and float() accept digits of other scripts
        raise ConversionError(f"not a number: {text[:40]!r}")
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return int(text)
    if ("." not in text and "e" not in text and "E" not in text) or "_" in text or text.strip() != text:
        raise ConversionError(f"not a number: {text[:40]!r}")
    if len(text) <= 16 and "e" not in text and "E" not in text:
        # At most 15 digits: every such decimal survives a double round trip (DBL_DIG = 15).
        try:
            return float(text)
        except ValueError:
            raise ConversionError(f"not a number: {text[:40]!r}") from None
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"not a number: {text[:40]!r}") from None
    if repr(value) == text:  # DynamoDB's normalised form: the fast path
        return value
    try:
        exact = Decimal(text)
    except InvalidOperation:  # pragma: no cover - float() accepted it, Decimal accepts a superset
        raise ConversionError(f"not a number: {text[:40]!r}") from None
    if not exact.is_finite():
        raise ConversionError(f"not a finite number: {text[:40]!r}")
    if exact == exact.to_integral_value():
        return int(exact)
    if value != value or value in (float("inf"), float("-inf")):  # pragma: no cover - finite Decimal
        return text
    return value if Decimal(repr(value)) == exact else text


def value(attribute: AttributeValue) -> JsonValue:
    """Convert one typed wire value, such as ``{"M": {...}}``, to a JSON value."""
    try:
        ((tag, raw),) = attribute.items()
    except (ValueError, AttributeError):
        raise ConversionError("an attribute value is an object with exactly one type key") from None
    if tag == "S":
        if raw.__class__ is str:
            return raw
    elif tag == "N":
        return number(raw)
    elif tag == "M":
        if raw.__class__ is dict:
            return {name: scalar(item) for name, item in raw.items()}
    elif tag == "L":
        if raw.__class__ is list:
            return [scalar(item) for item in raw]
    elif tag == "BOOL":
        if raw is True or raw is False:
            return raw
    elif tag == "NULL":
        if raw is True:
            return None
    elif tag == "B":
        if raw.__class__ is str:
            return raw
    elif tag == "SS" or tag == "BS":
        if raw.__class__ is list and all(item.__class__ is str for item in raw):
            return sorted(raw)
    elif tag == "NS":
        if raw.__class__ is list and all(item.__class__ is str for item in raw):
            try:
                ordered = sorted(raw, key=Decimal)
            except InvalidOperation:
                raise ConversionError("NS holds a value that is not a number") from None
            return [number(item) for item in ordered]
    else:
        raise ConversionError(f"unknown attribute type {tag!r}")
    raise ConversionError(f"malformed {tag!r} value")


def scalar(attribute: AttributeValue) -> JsonValue:
    """:func:`value` with the common cases first: S, N, and lists and maps of them (no call per element)."""
    if attribute.__class__ is dict and len(attribute) == 1:
        text = attribute.get("S")
        if text.__class__ is str:
            return text
        text = attribute.get("N")
        if text.__class__ is str:
            return number(text)
        items = attribute.get("L")
        if items.__class__ is list:
            elements: list[JsonValue] = []
            append = elements.append
            for element in items:
                if element.__class__ is dict and len(element) == 1:
                    text = element.get("S")
                    if text.__class__ is str:
                        append(text)
                        continue
                append(scalar(element))
            return elements
        fields = attribute.get("M")
        if fields.__class__ is dict:
            members: dict[str, JsonValue] = {}
            for name, element in fields.items():
                if element.__class__ is dict and len(element) == 1:
                    text = element.get("N")
                    if text.__class__ is str:
                        members[name] = number(text)
                        continue
                members[name] = scalar(element)
            return members
    return value(attribute)


# Converters for the wire type a field is written with. Each returns what :func:`value` returns for the
# same input, taking the expected shape in fewer steps; any other shape goes through :func:`scalar`.


def number_value(attribute: AttributeValue) -> JsonValue:
    """An ``N`` field."""
    try:
        text = attribute["N"]
    except (KeyError, TypeError):
        return scalar(attribute)
    if text.__class__ is str and len(attribute) == 1:
        return number(text)
    return scalar(attribute)


def string_list(attribute: AttributeValue) -> JsonValue:
    """An ``L`` of ``S`` field (or any other shape, such as an ``SS``)."""
    try:
        elements = attribute["L"]
        texts = []
        for element in elements:
            text = element["S"]
            if text.__class__ is not str or len(element) != 1:
                return scalar(attribute)
            texts.append(text)
    except (KeyError, TypeError):
        return scalar(attribute)
    return texts if len(attribute) == 1 else scalar(attribute)


def lat_lon(attribute: AttributeValue) -> JsonValue:
    """An ``M`` of two ``N`` named ``lat`` and ``lon``: a geo point."""
    try:
        members = attribute["M"]
        lat, lon = members["lat"], members["lon"]
        lat_text, lon_text = lat["N"], lon["N"]
    except (KeyError, TypeError):
        return scalar(attribute)
    # The lookups above found a key in each object, so the sizes add up to 5 only if each holds just that
    # key (``members``: ``lat`` and ``lon``): one comparison instead of four.
    if (
        lat_text.__class__ is str
        and lon_text.__class__ is str
        and len(attribute) + len(members) + len(lat) + len(lon) == 5
    ):
        return {"lat": number(lat_text), "lon": number(lon_text)}
    return scalar(attribute)


def item(image: Mapping[str, AttributeValue]) -> dict[str, JsonValue]:
    """Convert a whole item (attribute name → typed wire value) to a JSON object."""
    return {name: value(attribute) for name, attribute in image.items()}
