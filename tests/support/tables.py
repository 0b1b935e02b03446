"""Tables for the tests, made from terraform/definitions/table.json, the definition Terraform deploys."""

from __future__ import annotations

from typing import Any

from devstack.definitions import create_table_request


def create_table(dynamodb: Any, name: str) -> str:
    """Create table `name` (keys, GSI, billing and stream of the shared definition); return its stream ARN.

    A schema written by hand for a test could drift from the deployed one (a missing GSI key type, another
    stream view type) and a test would pass against a table that cannot exist.
    """
    answer = dynamodb.create_table(**create_table_request(name))
    stream_arn: str = answer["TableDescription"]["LatestStreamArn"]
    return stream_arn
