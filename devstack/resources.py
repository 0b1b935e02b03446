"""Create the local stack's AWS resources in moto from the same definitions Terraform uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from devstack.definitions import create_table_request, load_definition
from stackclient.stack import LOCAL_AWS_ENV

TABLE_NAME = "appsync-cqrs-local"
DEAD_LETTER_QUEUE = "appsync-cqrs-local-dead-letter"
ON_FAILURE_QUEUE = "appsync-cqrs-local-on-failure"


@dataclass(frozen=True)
class Resources:
    table_name: str
    stream_arn: str
    dead_letter_queue_url: str
    on_failure_queue_url: str


def create_resources(endpoint: str, region: str = "us-east-1", table_name: str = TABLE_NAME) -> Resources:
    """Table (keys, GSI, stream, TTL from `table.json`) and the two queues; idempotent."""
    session = boto3.Session(
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    if table_name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(**create_table_request(table_name))
        dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1})
        ttl_attribute = load_definition("table").get("ttl_attribute")
        if ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
            )
    stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    sqs: Any = session.client("sqs", endpoint_url=endpoint)
    # From the definition Terraform uses (14 days' retention, 256 KiB messages), so moto refuses what the
    # deployed queues would: its own default size is 1 MiB.
    queues = load_definition("queues")
    attributes = {
        "MessageRetentionPeriod": str(queues["message_retention_seconds"]),
        "MaximumMessageSize": str(queues["max_message_size"]),
    }
    return Resources(
        table_name=table_name,
        stream_arn=stream_arn,
        dead_letter_queue_url=sqs.create_queue(QueueName=DEAD_LETTER_QUEUE, Attributes=attributes)[
            "QueueUrl"
        ],
        on_failure_queue_url=sqs.create_queue(QueueName=ON_FAILURE_QUEUE, Attributes=attributes)["QueueUrl"],
    )
