"""DynamoDB items and stream records in the shape Lambda delivers them to a function.

boto3 parses binary attribute values into bytes and stream times into datetimes; Lambda's event carries
base64 text and epoch seconds. The local stream poller (devstack) hands records in Lambda's shape to the
projector, and the ops commands (backfill, reconcile, redrive) hand it items read by Scan and GetRecords:
both convert here, so the projector sees one shape whichever way an item reaches it.
"""

from __future__ import annotations

import base64
import math
from typing import Any

Item = dict[str, Any]  # a DynamoDB item in the low-level wire form: {"pk": {"S": "..."}, ...}
Record = dict[str, Any]  # a DynamoDB stream record


def lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A boto3-parsed attribute value back in wire form (binary as base64 text), as Lambda delivers it."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(item).decode() for item in inner]}
    if kind == "M":
        return {"M": {key: lambda_attribute(item) for key, item in inner.items()}}
    if kind == "L":
        return {"L": [lambda_attribute(item) for item in inner]}
    return {kind: inner}


def wire_item(item: Item) -> Item:
    """A boto3-parsed item in the wire form stream records have (binary as base64 text)."""
    return {name: lambda_attribute(value) for name, value in item.items()}


def lambda_record(record: Record, stream_arn: str) -> Record:
    """A `GetRecords` record (as boto3 parses it) as it appears in a Lambda event for the stream."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None:
        # Lambda delivers epoch seconds, rounded down to the second.
        epoch = created.timestamp() if hasattr(created, "timestamp") else float(created)
        change["ApproximateCreationDateTime"] = float(math.floor(epoch))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = wire_item(change[image])
    shaped = {key: value for key, value in record.items() if key != "dynamodb"}
    shaped["dynamodb"] = change
    shaped["eventSourceARN"] = stream_arn
    shaped.setdefault("eventSource", "aws:dynamodb")
    return shaped
