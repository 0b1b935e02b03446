"""AppSync's AWS scalars with the validation AppSync applies (AWS AppSync scalar types reference).

Each scalar rejects malformed values with a GraphQLError, in variables and in literals alike.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema
from graphql.language import IntValueNode, StringValueNode, ValueNode

_OFFSET = r"(Z|[+-]\d{2}:\d{2}(:\d{2})?)"
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
_PATTERNS = {
    "AWSDate": re.compile(rf"{_DATE}{_OFFSET}?"),
    "AWSTime": re.compile(rf"{_TIME}{_OFFSET}?"),
    "AWSDateTime": re.compile(rf"{_DATE}T{_TIME}{_OFFSET}"),
    "AWSEmail": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "AWSPhone": re.compile(r"\+?[0-9][0-9 ()\-.]{3,30}"),
}


def _checked_fields(text: str) -> bool:
    """Range checks the regexes cannot do (month 1-12, hour < 24...)."""
    date = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if date and not (1 <= int(date.group(2)) <= 12 and 1 <= int(date.group(3)) <= 31):
        return False
    clock = re.search(r"(?:^|T)(\d{2}):(\d{2})(?::(\d{2}))?", text)
    return not (
        clock and (int(clock.group(1)) > 23 or int(clock.group(2)) > 59 or int(clock.group(3) or 0) > 59)
    )


def _string_scalar(name: str, valid: Callable[[str], bool]) -> tuple[Callable[[Any], Any], ...]:
    def parse_value(value: Any) -> str:
        if not isinstance(value, str) or not valid(value):
            raise GraphQLError(f"Invalid {name} value: {value!r}")
        return value

    def parse_literal(node: ValueNode, _variables: Any = None) -> str:
        if not isinstance(node, StringValueNode):
            raise GraphQLError(f"{name} must be a string literal")
        return parse_value(node.value)

    return parse_value, parse_literal, parse_value


def _pattern(name: str) -> Callable[[str], bool]:
    return lambda text: bool(_PATTERNS[name].fullmatch(text)) and _checked_fields(text)


def _url(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.scheme and (parts.netloc or parts.scheme in {"mailto", "urn"}))


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _json_value(value: Any) -> Any:
    if not isinstance(value, str):
        raise GraphQLError("AWSJSON values must be JSON text in a string")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise GraphQLError(f"Invalid AWSJSON value: {exc.msg}") from exc


def _json_literal(node: ValueNode, _variables: Any = None) -> Any:
    if not isinstance(node, StringValueNode):
        raise GraphQLError("AWSJSON must be a string literal")
    return _json_value(node.value)


def _timestamp_value(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Invalid AWSTimestamp value: {value!r} (seconds since the epoch)")
    return value


def _timestamp_literal(node: ValueNode, _variables: Any = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError("AWSTimestamp must be an integer literal")
    return int(node.value)


def install(schema: GraphQLSchema) -> None:
    """Give the prelude's AWS scalars their parsing and validation."""
    behaviour: dict[str, tuple[Callable[..., Any], ...]] = {
        name: _string_scalar(name, _pattern(name)) for name in _PATTERNS
    }
    behaviour["AWSURL"] = _string_scalar("AWSURL", _url)
    behaviour["AWSIPAddress"] = _string_scalar("AWSIPAddress", _ip)
    behaviour["AWSJSON"] = (_json_value, _json_literal, lambda value: json.dumps(value))
    behaviour["AWSTimestamp"] = (_timestamp_value, _timestamp_literal, _timestamp_value)
    for name, (parse_value, parse_literal, serialize) in behaviour.items():
        scalar = schema.type_map.get(name)
        if isinstance(scalar, GraphQLScalarType):
            # graphql-core 3.3 reads the coerce_* names; older releases the parse_*/serialize ones.
            scalar.parse_value = parse_value  # type: ignore[method-assign]
            scalar.parse_literal = parse_literal  # type: ignore[method-assign]
            scalar.serialize = serialize  # type: ignore[method-assign]
            scalar.coerce_input_value = parse_value
            scalar.coerce_output_value = serialize
