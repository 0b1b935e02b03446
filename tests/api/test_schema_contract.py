"""Static checks of schema/ against the manifest and AppSync's rules, so a mistake shows here rather
than as a silent null or an Unauthorized nested field on AppSync."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType

from devstack.appsync.auth import allowed_modes
from devstack.appsync.manifest import load_manifest
from devstack.appsync.schema import load_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(REPO / "schema")
MANIFEST = load_manifest(REPO / "resolvers")


def _object(type_: GraphQLOutputType) -> GraphQLObjectType | None:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_ if isinstance(type_, GraphQLObjectType) else None


def test_every_query_and_mutation_field_has_a_resolver() -> None:
    resolved = {(r.type_name, r.field) for r in MANIFEST.resolvers}
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root is not None
        missing = [name for name in root.fields if (root.name, name) not in resolved]
        assert missing == [], f"{root.name} fields without a resolver (AppSync would answer null): {missing}"


def test_every_field_iam_may_call_runs_the_caller_check() -> None:
    """pipeline.js's before step is the one place IAM callers are checked against the allow-list
    (issue 15, item 5): a unit resolver, or a pipeline with another file, would let any role in."""
    iam = "AWS_IAM"
    unguarded = []
    for resolver in MANIFEST.resolvers:
        root = SCHEMA.get_type(resolver.type_name)
        assert isinstance(root, GraphQLObjectType)
        field = root.fields[resolver.field]
        if iam in allowed_modes(root, field) and (
            resolver.kind != "PIPELINE" or resolver.file != REPO / "resolvers" / "pipeline.js"
        ):
            unguarded.append(f"{resolver.type_name}.{resolver.field}")
    assert unguarded == [], f"IAM may call these without pipeline.js's caller check: {unguarded}"


def test_every_caller_of_a_root_field_may_read_what_it_returns() -> None:
    problems = []
    for root in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            modes = allowed_modes(root, field)
            pending, seen = [_object(field.type)], set()
            while pending:
                current = pending.pop()
                if current is None or current.name in seen:
                    continue
                seen.add(current.name)
                for child_name, child in current.fields.items():
                    denied = modes - allowed_modes(current, child)
                    if denied:
                        problems.append(f"{root.name}.{name} → {current.name}.{child_name}: {sorted(denied)}")
                    pending.append(_object(child.type))
    assert problems == [], "callers would get Unauthorized nested fields:\n" + "\n".join(problems)


def test_subscriptions_name_mutations_that_return_their_type() -> None:
    assert SCHEMA.subscription_type is not None and SCHEMA.mutation_type is not None
    for name, field in SCHEMA.subscription_type.fields.items():
        assert field.ast_node is not None
        [subscribe] = [d for d in field.ast_node.directives if d.name.value == "aws_subscribe"]
        mutations = [value.value for value in subscribe.arguments[0].value.values]
        for mutation in mutations:
            assert mutation in SCHEMA.mutation_type.fields, f"{name} names unknown mutation {mutation}"
            returned = _object(SCHEMA.mutation_type.fields[mutation].type)
            assert returned is not None and returned == _object(field.type), f"{name} ← {mutation}"
