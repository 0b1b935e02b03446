"""The local stack's resources and poller settings agree with terraform/definitions/ (one source of truth)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import boto3
import pytest

from devstack.definitions import DEFINITIONS_DIR, EsmSettings, create_table_request
from devstack.resources import create_resources
from devstack.servers import ChildServer

REPO = Path(__file__).resolve().parents[2]


def test_local_table_matches_table_json(moto_server: ChildServer) -> None:
    definition = json.loads((DEFINITIONS_DIR / "table.json").read_text())
    resources = create_resources(moto_server.url, table_name="definitions-check")
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.url)
    table = dynamodb.describe_table(TableName=resources.table_name)["Table"]

    keys = {key["KeyType"]: key["AttributeName"] for key in table["KeySchema"]}
    assert keys == {"HASH": definition["hash_key"], "RANGE": definition["range_key"]}
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        (a["name"], a["type"]) for a in definition["attributes"]
    }
    indexes = {
        gsi["IndexName"]: (
            {key["KeyType"]: key["AttributeName"] for key in gsi["KeySchema"]},
            gsi["Projection"]["ProjectionType"],
        )
        for gsi in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        gsi["name"]: ({"HASH": gsi["hash_key"], "RANGE": gsi["range_key"]}, gsi["projection_type"])
        for gsi in definition["global_secondary_indexes"]
    }
    assert table["BillingModeSummary"]["BillingMode"] == definition["billing_mode"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": definition["stream_view_type"],
    }
    ttl = dynamodb.describe_time_to_live(TableName=resources.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": definition["ttl_attribute"]}


def test_poller_settings_are_stream_mapping_json() -> None:
    definition = json.loads((DEFINITIONS_DIR / "stream_mapping.json").read_text())
    settings = asdict(EsmSettings.from_definition())
    settings["function_response_types"] = list(settings["function_response_types"])
    assert settings == definition
    assert EsmSettings.from_definition().report_batch_item_failures


def test_an_unknown_stream_setting_fails_loudly() -> None:
    with pytest.raises(ValueError, match="tumbling_window"):
        EsmSettings.from_definition({"batch_size": 10, "tumbling_window_in_seconds": 5})


def test_terraform_reads_the_same_files() -> None:
    """Terraform's modules load these very files; a copy of the values elsewhere would drift."""
    table_module = (REPO / "terraform/modules/table/main.tf").read_text()
    projector_module = "".join(p.read_text() for p in (REPO / "terraform/modules/projector").glob("*.tf"))
    assert re.search(r'file\("\$\{path\.module\}/\.\./\.\./definitions/table\.json"\)', table_module)
    assert re.search(
        r'file\("\$\{path\.module\}/\.\./\.\./definitions/stream_mapping\.json"\)', projector_module
    )
    assert re.search(r'file\("\$\{path\.module\}/\.\./\.\./definitions/queues\.json"\)', projector_module)
    for queue in ("dead_letter", "on_failure"):
        block = projector_module.split(f'resource "aws_sqs_queue" "{queue}" {{', 1)[1].split("\n}", 1)[0]
        assert re.search(r"max_message_size\s*=\s*local\.queues\.max_message_size", block), queue
        assert re.search(r"message_retention_seconds\s*=\s*local\.queues\.message_retention_seconds", block)


def test_local_queues_match_queues_json(moto_server: ChildServer) -> None:
    """moto's own default message size is 1 MiB; the local queues take what the deployed ones do."""
    from projector.dlq import MAX_MESSAGE_BYTES

    definition = json.loads((DEFINITIONS_DIR / "queues.json").read_text())
    assert 1024 <= definition["max_message_size"] <= 262_144, "provider 5.100's range for max_message_size"
    assert definition["max_message_size"] == MAX_MESSAGE_BYTES, "the projector cuts dead letters to it"
    resources = create_resources(moto_server.url, table_name="definitions-check")
    sqs = boto3.client("sqs", endpoint_url=moto_server.url)
    for url in (resources.dead_letter_queue_url, resources.on_failure_queue_url):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert int(attributes["MaximumMessageSize"]) == definition["max_message_size"], url
        assert int(attributes["MessageRetentionPeriod"]) == definition["message_retention_seconds"], url


def test_create_table_request_handles_a_hash_only_table() -> None:
    request = create_table_request(
        "t",
        {"hash_key": "pk", "attributes": [{"name": "pk", "type": "S"}], "billing_mode": "PAY_PER_REQUEST",
         "stream_view_type": "KEYS_ONLY"},
    )  # fmt: skip
    assert request["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert "GlobalSecondaryIndexes" not in request
