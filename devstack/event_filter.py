"""Lambda's event filtering for a stream mapping, as the local poller applies it.

An event source mapping with `FilterCriteria` hands the function only the records that match one of its
patterns (patterns are ORed); the others are dropped and the mapping moves past them. A pattern is JSON of
the record's shape: an object descends into the field of the same name, a list at a leaf holds the values
the field may take, any one of them (AWS Lambda Developer Guide, "Control which events Lambda sends to your
function", filter rule syntax). Supported here: exact values, `prefix`, `exists` and `anything-but` (a list
of exact values). Any other operator is refused loudly rather than approximated: a local filter that
matched more or less than AWS would hide a wrong pattern until it is deployed.

The patterns themselves come from `terraform/definitions/review_cascade.json`, which Terraform deploys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()
SUPPORTED_OPERATORS = frozenset({"prefix", "exists", "anything-but"})


class UnsupportedFilter(ValueError):
    """A pattern uses filter syntax this stand-in does not implement."""


def validate(pattern: Mapping[str, Any]) -> None:
    """Raise UnsupportedFilter unless every field and rule of `pattern` is one this module implements."""
    for key, expected in pattern.items():
        if isinstance(expected, Mapping):
            validate(expected)
        elif isinstance(expected, list) and expected:
            for rule in expected:
                if isinstance(rule, Mapping) and (
                    len(rule) != 1 or next(iter(rule)) not in SUPPORTED_OPERATORS
                ):
                    raise UnsupportedFilter(
                        f"filter rule {dict(rule)!r} under {key!r} is not supported locally "
                        f"(supported: exact values, {', '.join(sorted(SUPPORTED_OPERATORS))})"
                    )
        else:
            raise UnsupportedFilter(f"pattern field {key!r} must be an object or a non-empty list of rules")


def _rule_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping):
        operator, operand = next(iter(rule.items()))
        if operator == "exists":
            return (value is not _MISSING) == bool(operand)
        if value is _MISSING:
            return False
        if operator == "prefix":
            return isinstance(value, str) and isinstance(operand, str) and value.startswith(operand)
        excluded = operand if isinstance(operand, list) else [operand]
        return value not in excluded
    return value is not _MISSING and value == rule


def _leaf_matches(rules: Sequence[Any], value: Any) -> bool:
    # A list in the record matches when any of its elements does, as on AWS.
    values = value if isinstance(value, list) else [value]
    return any(_rule_matches(rule, each) for rule in rules for each in values)


def matches(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether `record` (a Lambda stream record) matches one filter pattern (checked by `validate`)."""
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            # A missing object matches only rules that ask for absence (exists: false) below it.
            if not matches(expected, value if isinstance(value, Mapping) else {}):
                return False
        elif not _leaf_matches(expected, value):
            return False
    return True


def record_filter(patterns: Sequence[Mapping[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate passing the records that match any of `patterns` (all records when there are none)."""
    patterns = list(patterns)
    if not patterns:
        return lambda record: True
    for pattern in patterns:
        validate(pattern)  # at start-up, not at the first record
    return lambda record: any(matches(pattern, record) for pattern in patterns)
