"""The table and stream-mapping settings the local stack shares with Terraform.

Both files live in `terraform/definitions/` (docs/design.md §1-2); Terraform reads them with `jsondecode`,
the local stack reads them here, so what runs locally is what deploys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "terraform" / "definitions"


def load_definition(name: str) -> dict[str, Any]:
    """Read `terraform/definitions/<name>.json`."""
    data: dict[str, Any] = json.loads((DEFINITIONS_DIR / f"{name}.json").read_text())
    return data


@dataclass(frozen=True)
class EsmSettings:
    """An event source mapping's settings for a DynamoDB stream (the Lambda API's names, snake_case).

    -1 means "infinite" for `maximum_retry_attempts` and `maximum_record_age_in_seconds`, as on AWS.
    """

    batch_size: int = 100
    maximum_batching_window_in_seconds: float = 0
    maximum_retry_attempts: int = -1
    maximum_record_age_in_seconds: int = -1
    bisect_batch_on_function_error: bool = False
    parallelization_factor: int = 1
    function_response_types: tuple[str, ...] = ()
    starting_position: str = "TRIM_HORIZON"

    @property
    def report_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types

    @classmethod
    def from_definition(cls, data: dict[str, Any] | None = None) -> EsmSettings:
        data = load_definition("stream_mapping") if data is None else data
        known = {**data, "function_response_types": tuple(data.get("function_response_types", ()))}
        unknown = set(known) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"stream_mapping.json: unknown settings {sorted(unknown)}")
        return cls(**known)


@dataclass(frozen=True)
class CascadeDefinition:
    """The review cascade's event source mapping: its settings and filter patterns
    (`review_cascade.json`, which terraform/modules/projector/cascade.tf deploys)."""

    settings: EsmSettings
    filter_patterns: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, data: dict[str, Any] | None = None) -> CascadeDefinition:
        data = load_definition("review_cascade") if data is None else data
        return cls(EsmSettings.from_definition(data["stream_mapping"]), tuple(data["filter_patterns"]))


def create_table_request(table_name: str, table: dict[str, Any] | None = None) -> dict[str, Any]:
    """The DynamoDB `CreateTable` arguments that `table.json` describes (keys, GSIs, billing, stream)."""
    table = load_definition("table") if table is None else table
    keys = [{"AttributeName": table["hash_key"], "KeyType": "HASH"}]
    if table.get("range_key"):
        keys.append({"AttributeName": table["range_key"], "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": attr["name"], "AttributeType": attr["type"]} for attr in table["attributes"]
        ],
        "BillingMode": table["billing_mode"],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": table["stream_view_type"]},
    }
    indexes = [
        {
            "IndexName": gsi["name"],
            "KeySchema": [
                {"AttributeName": gsi["hash_key"], "KeyType": "HASH"},
                *([{"AttributeName": gsi["range_key"], "KeyType": "RANGE"}] if gsi.get("range_key") else []),
            ],
            "Projection": {"ProjectionType": gsi["projection_type"]},
        }
        for gsi in table.get("global_secondary_indexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    return request
