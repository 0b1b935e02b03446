"""moto server as the local stack runs it: moto's own server with its DynamoDB transactions made atomic.

Run it as `python -m devstack.motoserver [moto.server's arguments]` (`devstack.servers.start_moto` does).

moto 5.2.5 runs `TransactWriteItems` by applying each write in turn and, when the transaction is cancelled,
putting back a deep copy of every table it touched, taken before the first write. Three things follow that
DynamoDB never does (reproduced with boto3 alone in devstack/appsync/README.md, "Known divergences"):

1. The writes applied before the cancellation already appended their records to the stream shard of the
   table object that is then thrown away. A shard iterator opened before the transaction holds that
   object, so it returns an `INSERT` for a `Put` that was never written (the local stack indexed reviews of
   listings that do not exist).
2. That iterator reads the discarded shard for ever: it never sees a later record (a stale iterator).
3. The restored copy numbers its next record with the sequence number of the discarded one, so a reader
   that checkpointed the phantom record and re-opens `AFTER_SEQUENCE_NUMBER` skips a real write.

`apply()` wraps the backend's `transact_write_items`: after moto's rollback the live table object (and
with it the stream shard every open iterator holds) is kept, only its items are taken from moto's copy,
and the shard is cut back to the records it had before the transaction. One lock covers the item reads
and writes and the stream reads, so no request sees half a transaction or slips a write in while a
transaction runs (moto's rollback would otherwise undo it; its server is multi-threaded).
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from moto.dynamodb.exceptions import TransactWriteSingleOpException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

_F = TypeVar("_F", bound=Callable[..., Any])

# Reentrant: moto's transaction calls the (also locked) put_item/update_item/delete_item.
_LOCK = threading.RLock()
_LOCKED_DYNAMODB = ("put_item", "update_item", "delete_item", "get_item", "query", "scan")
_LOCKED_STREAMS = ("get_shard_iterator", "get_records")
_APPLIED_MARK = "_devstack_patched"


def _locked(method: _F) -> _F:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return call  # type: ignore[return-value]


def _transaction_tables(transact_items: list[dict[str, Any]]) -> set[str]:
    return {
        op["TableName"]
        for item in transact_items
        for op in item.values()
        if isinstance(op, dict) and isinstance(op.get("TableName"), str)
    }


def _atomic_transact_write_items(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        # moto raises this one from inside its loop without rolling back the writes before it; DynamoDB
        # refuses the whole request up front, so check it before anything is written.
        if any(len(item) > 1 for item in transact_items):
            raise TransactWriteSingleOpException
        with _LOCK:
            names = _transaction_tables(transact_items)
            live = {name: self.tables[name] for name in names if name in self.tables}
            marks = {
                name: len(table.stream_shard.items)
                for name, table in live.items()
                if table.stream_shard is not None
            }
            try:
                original(self, transact_items)
            except BaseException:
                for name, table in live.items():
                    restored = self.tables.get(name)
                    if restored is None or restored is table:
                        # Not rolled back: moto failed before its first write (it rolls back after any).
                        continue
                    table.items = restored.items  # moto's pre-transaction copy of the data
                    self.tables[name] = table
                    if table.stream_shard is not None and name in marks:
                        del table.stream_shard.items[marks[name] :]
                raise

    return transact_write_items


def apply() -> None:
    """Patch moto's DynamoDB and Streams backends in this process (idempotent)."""
    if getattr(DynamoDBBackend, _APPLIED_MARK, False):
        return
    for name in _LOCKED_DYNAMODB:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    for name in _LOCKED_STREAMS:
        setattr(DynamoDBStreamsBackend, name, _locked(getattr(DynamoDBStreamsBackend, name)))
    DynamoDBBackend.transact_write_items = _atomic_transact_write_items(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    setattr(DynamoDBBackend, _APPLIED_MARK, True)


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    apply()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
