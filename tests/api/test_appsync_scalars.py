"""The AWS scalars accept what AppSync documents and refuse the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLError, GraphQLScalarType

from devstack.appsync.schema import load_schema

SCHEMA = load_schema(Path(__file__).resolve().parents[2] / "schema")

VALID = {
    "AWSDate": ["1970-01-01", "2026-11-29Z", "2026-11-29+05:30"],
    "AWSTime": ["12:00", "12:00:59", "12:00:59.123", "23:59:59.999-08:00"],
    "AWSDateTime": ["2026-11-29T17:00Z", "2026-11-29T17:00:00.123Z", "1970-01-01T00:00:00+01:00"],
    "AWSEmail": ["someone@example.com", "a.b+c@sub.example.org"],
    "AWSURL": ["https://example.com/a?b=c", "mailto:someone@example.com"],
    "AWSPhone": ["+1 555 0100", "030-1234567"],
    "AWSIPAddress": ["127.0.0.1", "10.0.0.0/8", "::1"],
}
INVALID = {
    "AWSDate": ["2026-13-01", "29.11.2026", "2026-11-29T00:00Z"],
    "AWSTime": ["24:00", "12:60", "noon"],
    "AWSDateTime": ["2026-11-29", "2026-11-29T17:00:00", "2026-11-29T17:00:00+0100"],
    "AWSEmail": ["no-at-sign", "a@b", "two@@example.com"],
    "AWSURL": ["example.com", "not a url"],
    "AWSPhone": ["call me", "12"],
    "AWSIPAddress": ["256.0.0.1", "localhost"],
}


def scalar(name: str) -> GraphQLScalarType:
    found = SCHEMA.type_map[name]
    assert isinstance(found, GraphQLScalarType)
    return found


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in VALID.items() for v in vs])
def test_valid_values_pass(name: str, value: str) -> None:
    assert scalar(name).parse_value(value) == value


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in INVALID.items() for v in vs])
def test_invalid_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(GraphQLError, match=name):
        scalar(name).parse_value(value)


def test_awsjson_and_awstimestamp() -> None:
    assert scalar("AWSJSON").parse_value('{"a": [1, 2]}') == {"a": [1, 2]}
    assert scalar("AWSJSON").serialize({"a": 1}) == '{"a": 1}'
    with pytest.raises(GraphQLError, match="AWSJSON"):
        scalar("AWSJSON").parse_value("{broken")
    assert scalar("AWSTimestamp").parse_value(1764435600) == 1764435600
    with pytest.raises(GraphQLError, match="AWSTimestamp"):
        scalar("AWSTimestamp").parse_value("1764435600")
