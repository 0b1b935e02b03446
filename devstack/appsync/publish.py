"""What a mutation publishes to subscriptions (AppSync's `@aws_subscribe`), read from its response.

* a mutation field named in a subscription field's `@aws_subscribe(mutations: [...])` publishes its
  result to that subscription field, one publication per mutation field (aliases included), and only
  when it returned a value;
* the publication carries only the fields the mutation selected, keyed by field name (not alias): what
  a subscriber asks beyond them arrives null (devstack/appsync/subscriptions.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
)


@dataclass(frozen=True)
class Publication:
    """One mutation field's result, keyed by field names and holding only what the mutation selected."""

    mutation: str
    payload: Any


def subscription_targets(schema: GraphQLSchema) -> dict[str, tuple[str, ...]]:
    """mutation field → the subscription fields its result is published to (`@aws_subscribe`)."""
    targets: dict[str, list[str]] = {}
    subscription = schema.subscription_type
    for name, field_def in (subscription.fields if subscription else {}).items():
        for directive in field_def.ast_node.directives if field_def.ast_node else ():
            if directive.name.value != "aws_subscribe":
                continue
            for argument in directive.arguments:
                if argument.name.value == "mutations" and isinstance(argument.value, ListValueNode):
                    for value in argument.value.values:
                        if isinstance(value, StringValueNode):
                            targets.setdefault(value.value, []).append(name)
    return {mutation: tuple(fields) for mutation, fields in targets.items()}


def _included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, vars_: Mapping[str, Any]) -> bool:
    """`@skip` / `@include`, as the executor applies them."""
    for directive in node.directives or ():
        if directive.name.value not in {"skip", "include"}:
            continue
        value: Any = None
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                literal = argument.value
                if isinstance(literal, BooleanValueNode):
                    value = literal.value
                elif isinstance(literal, VariableNode):
                    value = vars_.get(literal.name.value)
        if (directive.name.value == "skip") == bool(value):
            return False
    return True


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Iterable[FieldNode]:
    """The field nodes of a selection set, fragments expanded (the schema has no abstract types)."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode | InlineFragmentNode | FragmentSpreadNode) and not _included(
            selection, variables
        ):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _fields(fragments[selection.name.value].selection_set, fragments, variables)


def _project(
    value: Any,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Any:
    """A response value (keyed by aliases) re-keyed by field names, as subscribers' resolvers read it."""
    if isinstance(value, list):
        return [_project(item, selection_set, fragments, variables) for item in value]
    if not isinstance(value, dict) or selection_set is None:
        return value
    out: dict[str, Any] = {}
    for node in _fields(selection_set, fragments, variables):
        name = node.name.value
        if name.startswith("__"):
            continue
        key = node.alias.value if node.alias else name
        if key not in value:
            continue
        projected = _project(value[key], node.selection_set, fragments, variables)
        if isinstance(out.get(name), dict) and isinstance(projected, dict):
            out[name] = {**out[name], **projected}  # two aliases of one field: what either selected
        else:
            out[name] = projected
    return out


def publications(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    result: ExecutionResult,
    targets: Mapping[str, tuple[str, ...]],
) -> list[Publication]:
    """What an executed mutation publishes: each subscribed-to mutation field that returned a value."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    data = result.data or {}
    out = []
    for node in _fields(operation.selection_set, fragments, variables):
        key = node.alias.value if node.alias else node.name.value
        if node.name.value in targets and data.get(key) is not None:
            payload = _project(data[key], node.selection_set, fragments, variables)
            out.append(Publication(node.name.value, payload))
    return out


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == operation_name), None)
