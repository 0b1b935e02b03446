"""Time to live for the local stack: moto stores the TTL setting but never expires items.

`TtlSweeper.sweep()` deletes the items whose TTL attribute (epoch seconds) has passed, each with a
condition on the value it saw, so an item whose TTL was extended meanwhile stays. It remembers the keys it
deleted in `ServiceDeletes`; the poller then marks the matching REMOVE records the way DynamoDB marks TTL
deletes (`userIdentity: {"type": "Service", "principalId": "dynamodb.amazonaws.com"}`), which is how the
projector tells expiry from a user's delete.

Approximations: AWS deletes expired items within days, not seconds; a poller crash between the delete and
its REMOVE record loses the mark (the record is then projected as an ordinary delete: a tombstone all the
same, only counted as a user delete).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

log = logging.getLogger("devstack.ttl")

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _key_id(keys: dict[str, Any]) -> str:
    return json.dumps(keys, sort_keys=True)


class ServiceDeletes:
    """Keys of items the sweeper deleted, until their REMOVE record is seen (thread-safe)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def add(self, keys: dict[str, Any]) -> None:
        with self._lock:
            self._keys.add(_key_id(keys))

    def take(self, keys: dict[str, Any]) -> bool:
        """True once for keys the sweeper deleted."""
        with self._lock:
            key = _key_id(keys)
            found = key in self._keys
            self._keys.discard(key)
            return found


class TtlSweeper:
    """Deletes expired items of one table, as DynamoDB's TTL process would."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        attribute: str,
        key_names: list[str],
        deletes: ServiceDeletes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.attribute = attribute
        self.key_names = key_names
        self.deletes = deletes
        self.clock = clock

    def sweep(self) -> int:
        """Delete every item whose TTL attribute is a number below now; returns how many."""
        now = Decimal(int(self.clock()))
        deleted = 0
        # The comparison is made here: moto fails (HTTP 500) comparing a string attribute with a number.
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "attribute_exists(#ttl)",
            "ExpressionAttributeNames": {"#ttl": self.attribute},
        }
        for page in self.dynamodb.get_paginator("scan").paginate(**request):
            for item in page["Items"]:
                value = item[self.attribute]
                if "N" not in value or Decimal(value["N"]) >= now:
                    continue  # DynamoDB ignores a TTL attribute that is not a number
                keys = {name: item[name] for name in self.key_names}
                self.deletes.add(keys)  # before the delete: its REMOVE record may be read at once
                try:
                    self.dynamodb.delete_item(
                        TableName=self.table_name,
                        Key=keys,
                        ConditionExpression="#ttl = :seen",
                        ExpressionAttributeNames={"#ttl": self.attribute},
                        ExpressionAttributeValues={":seen": item[self.attribute]},
                    )
                except self.dynamodb.exceptions.ConditionalCheckFailedException:
                    self.deletes.take(keys)  # changed or gone meanwhile: not expired after all
                    continue
                deleted += 1
        if deleted:
            log.info("ttl: deleted %d expired items from %s", deleted, self.table_name)
        return deleted

    def run(self, stop: threading.Event, interval_s: float) -> None:
        """Sweep every `interval_s` until `stop` is set (a failed sweep is logged and retried)."""
        while not stop.wait(interval_s):
            try:
                self.sweep()
            except Exception:
                log.exception("ttl sweep failed; retrying in %.0f s", interval_s)
