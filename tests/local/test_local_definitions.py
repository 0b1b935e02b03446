"""The local stack's resources, poller settings and index names agree with terraform/definitions/ (one
source of truth)."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict
from pathlib import Path

import boto3
import pytest

from devstack.appsync.app import READ_ALIASES, resolver_environment
from devstack.appsync.manifest import load_manifest
from devstack.definitions import DEFINITIONS_DIR, EsmSettings, create_table_request
from devstack.resources import create_resources
from devstack.servers import ChildServer
from ops.cli import entity_option
from projector.entities import ENTITIES
from projector.names import INDICES_FILE, load_index_families

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

    def module(name: str) -> str:
        return "".join(p.read_text() for p in (REPO / "terraform/modules" / name).glob("*.tf"))

    def reads(name: str) -> re.Pattern[str]:
        return re.compile(rf'file\("\$\{{path\.module\}}/\.\./\.\./definitions/{re.escape(name)}"\)')

    assert reads("table.json").search(module("table"))
    assert reads("stream_mapping.json").search(module("projector"))
    for name in ("projector", "search", "api"):
        assert reads("indices.json").search(module(name)), name
    assert reads("queues.json").search(module("projector"))
    projector_module = module("projector")
    for queue in ("dead_letter", "on_failure"):
        block = projector_module.split(f'resource "aws_sqs_queue" "{queue}" {{', 1)[1].split("\n}", 1)[0]
        assert re.search(r"max_message_size\s*=\s*local\.queues\.max_message_size", block), queue
        assert re.search(r"message_retention_seconds\s*=\s*local\.queues\.message_retention_seconds", block)


def test_projector_and_ops_names_are_indices_json() -> None:
    """Every index family of the file is an entity the projector writes, under the file's names."""
    definition = json.loads(INDICES_FILE.read_text())
    assert INDICES_FILE == DEFINITIONS_DIR / "indices.json"
    assert {entity.base: entity.name for entity in ENTITIES} == {
        family: spec["entity"] for family, spec in definition.items()
    }
    for entity in ENTITIES:
        spec = definition[entity.base]
        assert entity.index() == f"{spec['index_prefix']}{entity.mapping_version}"
        assert entity.index("stack-") == f"stack-{spec['index_prefix']}{entity.mapping_version}"
        assert (entity.write_alias(), entity.read_alias()) == (spec["write_alias"], spec["read_alias"])
        assert entity.mapping_file.exists()
    parser = argparse.ArgumentParser()
    entity_option(parser)
    assert parser.parse_args([f"-e={family}" for family in definition]).entity == list(definition)


def test_local_endpoint_gets_the_names_from_indices_json() -> None:
    """The resolvers' ctx.env and the search data source's aliases, as Terraform's api module sets them."""
    definition = json.loads(INDICES_FILE.read_text())
    env = resolver_environment("a-table", "123456789012:a-role")
    assert env == {
        "TABLE_NAME": "a-table",
        **{f"{family.upper()}_READ_ALIAS": spec["read_alias"] for family, spec in definition.items()},
        "IAM_CALLER_ROLES": "123456789012:a-role",
    }
    assert sorted(READ_ALIASES) == sorted(spec["read_alias"] for spec in definition.values())
    # The manifest declares exactly what both endpoints provide, and the resolvers read nothing else.
    manifest = load_manifest(REPO / "resolvers")
    assert set(manifest.environment_variables) == set(env)
    code = "".join(path.read_text() for path in (REPO / "resolvers").rglob("*.js"))
    assert set(re.findall(r"ctx\.env\.(\w+)", code)) <= set(env)


def test_a_malformed_indices_file_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "indices.json"
    thing = {"entity": "Thing", "index_prefix": "things-v", "write_alias": "things-write", "read_alias": "t"}
    path.write_text(json.dumps({"things": {**thing, "read_alias": "Things"}}))
    with pytest.raises(ValueError, match="things: not a lower-case index or alias name"):
        load_index_families(path)
    path.write_text(json.dumps({"things": {key: thing[key] for key in ("entity", "index_prefix")}}))
    with pytest.raises(ValueError, match="things: needs exactly"):
        load_index_families(path)
    path.write_text(json.dumps({"things": thing, "others": {**thing, "entity": "Other", "read_alias": "o"}}))
    with pytest.raises(ValueError, match="share an alias"):
        load_index_families(path)


# Where each family's names may be written: the definitions file, docs, and tests that check them on
# purpose. Elsewhere they are read from the file (Terraform, Python) or from ctx.env (resolvers).
SOURCE_DIRS = ("projector", "ops", "devstack", "scripts", "resolvers", "web", "schema", "terraform")
SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".tf", ".json", ".html"}


def _literal_names() -> list[re.Pattern[str]]:
    patterns = []
    for spec in json.loads(INDICES_FILE.read_text()).values():
        patterns += [
            re.compile(rf"\b{re.escape(spec['index_prefix'])}[0-9*]"),  # listings-v1, listings-v*
            re.compile(rf"\b{re.escape(spec['write_alias'])}\b"),
            re.compile(rf"/{re.escape(spec['read_alias'])}[/\"'`*]"),  # a path: /listings/_search
        ]
    return patterns


def _quoted_read_aliases() -> list[re.Pattern[str]]:
    # Only in Terraform and JavaScript: in Python the families' names also label counts (seed reports).
    # A GraphQL field of the same name (the manifest's `"field": "reviews"`) is not an alias.
    return [
        re.compile(rf"(?<!\"field\": )[\"'`]{re.escape(spec['read_alias'])}[/\"'`*]")
        for spec in json.loads(INDICES_FILE.read_text()).values()
    ]


def test_no_index_or_alias_name_is_written_outside_indices_json() -> None:
    found = []
    for directory in SOURCE_DIRS:
        for path in sorted((REPO / directory).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or path == INDICES_FILE:
                continue
            if {"node_modules", "tests", "e2e", ".terraform"} & set(path.relative_to(REPO).parts):
                continue
            patterns = _literal_names() + (_quoted_read_aliases() if path.suffix != ".py" else [])
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(pattern.search(line) for pattern in patterns):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []


def test_the_name_scan_finds_what_it_looks_for() -> None:
    lines = ['"${arn}/_alias/listings-write"', "GET /listings-v1/_doc/x", "path: '/reviews/_search'"]
    for line in lines:
        assert any(pattern.search(line) for pattern in _literal_names()), line
    assert any(pattern.search('["listings/_search"]') for pattern in _quoted_read_aliases())
    assert not any(pattern.search("projector/mappings/listings.v1.json") for pattern in _literal_names())


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
