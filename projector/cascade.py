"""The review cascade: deletes the reviews a deleted listing leaves behind (docs/design.md §1).

A second consumer of the table's stream, shipped in the projector's zip but deployed as its own function
with its own role (terraform/modules/projector/cascade.tf): the projector stays read-only on the table, and
this function may only read a listing's partition and delete items in it.

Why a consumer and not the command path: ``deleteListing`` is one AppSync pipeline, and APPSYNC_JS cannot
loop over requests; a transaction holds at most 100 items. So ``deleteListing`` deletes the listing with up
to 99 of its reviews in one transaction (the usual case leaves nothing behind, at once), and for a listing
with more, this consumer deletes the rest when the listing's REMOVE record arrives: any number of reviews,
page by page, each delete conditional on the version it read. Its REMOVE records make the projector
tombstone every review, as for any delete.

Which reviews are orphans: a review is only ever written while its listing exists (addReview checks it in
the same transaction), so every review older than the listing's current incarnation is one. The cut-off is
the create version (§3) of the listing that now stands under the id, if it was created again meanwhile,
else the time the cascade starts; reviews on a listing created again are newer and stay.

Local stack: the poller runs this handler on the same stream (``--cascade-handler``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

log = logging.getLogger("projector.cascade")

PAGE_SIZE = 100
"""Review keys read per Query page (each then deleted one by one, conditionally)."""
SAFETY_MARGIN_S = 10.0
"""Stop this long before the function's timeout; the record is reported failed and retried, and the
retry carries on where this run stopped (every delete is idempotent)."""


class OutOfTime(Exception):
    """The invocation is about to time out with reviews left to delete."""


def listing_id_of(record: Mapping[str, Any]) -> str | None:
    """The listing a stream record deletes, or None for any other record (the Terraform event filter
    already passes only listing REMOVEs; this repeats the rule so the handler is right on its own)."""
    if record.get("eventName") != "REMOVE":
        return None
    stream = record.get("dynamodb") or {}
    image = stream.get("OldImage") or stream.get("Keys") or {}
    pk = (image.get("pk") or {}).get("S")
    sk = (image.get("sk") or {}).get("S")
    if isinstance(pk, str) and pk.startswith("LISTING#") and sk == "LISTING":
        return pk[len("LISTING#") :]
    return None


def _create_version(created_at: str) -> int:
    """docs/design.md §3: a create writes ``nowEpochMillis * 1000``."""
    return round(datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp() * 1000) * 1000


def _review_keys(dynamodb: Any, table: str, pk: str) -> Iterator[dict[str, Any]]:
    """Every review item's key and version under `pk`, a page at a time (consistent reads)."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :review)",
        "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk", "#version": "version"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":review": {"S": "REVIEW#"}},
        "ProjectionExpression": "#pk, #sk, #version",
        "ConsistentRead": True,
        "Limit": PAGE_SIZE,
    }
    while True:
        page = dynamodb.query(**request)
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def delete_orphaned_reviews(
    dynamodb: Any, table: str, listing_id: str, deadline: float = float("inf"), now: float | None = None
) -> int:
    """Delete the reviews of `listing_id` older than the listing that stands under that id now (every one
    when none does); returns how many this call deleted. Raises OutOfTime past `deadline` (monotonic)."""
    pk = f"LISTING#{listing_id}"
    standing = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": pk}, "sk": {"S": "LISTING"}},
        ConsistentRead=True,
        ProjectionExpression="createdAt",
    ).get("Item")
    if standing is not None and "S" in standing.get("createdAt", {}):
        cutoff = _create_version(standing["createdAt"]["S"])
    else:
        cutoff = round((time.time() if now is None else now) * 1000) * 1000
    deleted = 0
    for key in _review_keys(dynamodb, table, pk):
        if time.monotonic() > deadline:
            raise OutOfTime(f"listing {listing_id}: {deleted} reviews deleted, more left")
        version = key.get("version", {}).get("N")
        if version is None or int(version) >= cutoff:
            continue  # written for the listing that stands now (or not a review as the API writes them)
        try:
            # Conditional on the version read: a review deleted or written again since is not ours to delete.
            dynamodb.delete_item(
                TableName=table,
                Key={"pk": key["pk"], "sk": key["sk"]},
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":version": {"N": version}},
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        deleted += 1
    return deleted


_client: Any = None


def _dynamodb() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("dynamodb")
    return _client


def reset() -> None:
    """Forget the cached client (tests point the handler at another endpoint)."""
    global _client
    _client = None


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Stream batch handler (``ReportBatchItemFailures``): for each listing REMOVE, delete its orphaned
    reviews. A record that fails (or runs out of time) is reported, and Lambda retries from it; records
    before it are done, and a repeat of any is harmless."""
    table = os.environ["TABLE_NAME"]
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context is not None else 900.0
    deadline = time.monotonic() + remaining - SAFETY_MARGIN_S
    for record in event.get("Records", []):
        listing_id = listing_id_of(record)
        if listing_id is None:
            continue
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            deleted = delete_orphaned_reviews(_dynamodb(), table, listing_id, deadline)
        except Exception:
            # Reported, not raised: Lambda retries from this record (bounded by the mapping's settings,
            # then the on-failure queue), and nothing before it runs twice.
            log.exception("review cascade failed for listing %s; it will be retried", listing_id)
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        log.info("review cascade: listing %s, %d orphaned reviews deleted", listing_id, deleted)
    return {"batchItemFailures": []}
