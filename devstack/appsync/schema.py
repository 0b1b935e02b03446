"""Loads `schema/*.graphql` with the AppSync prelude: AWS scalars and `@aws_*` directives."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema, build_schema

from devstack.appsync import scalars

PRELUDE = """
scalar AWSDate
scalar AWSTime
scalar AWSDateTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_subscribe(mutations: [String!]!) on FIELD_DEFINITION
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
directive @aws_oidc on FIELD_DEFINITION | OBJECT
directive @aws_lambda on FIELD_DEFINITION | OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String!]) on FIELD_DEFINITION | OBJECT
directive @aws_auth(cognito_groups: [String!]) on FIELD_DEFINITION
"""


def schema_sdl(schema_dir: Path) -> str:
    """The schema's own SDL: every `*.graphql` file in `schema_dir`, in name order."""
    files = sorted(schema_dir.glob("*.graphql"))
    if not files:
        raise FileNotFoundError(f"no *.graphql files in {schema_dir}")
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def load_schema(schema_dir: Path) -> GraphQLSchema:
    """The executable schema: prelude + project SDL, with validating AWS scalars."""
    schema = build_schema(PRELUDE + schema_sdl(schema_dir))
    scalars.install(schema)
    return schema
