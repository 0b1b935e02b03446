"""appsync-cqrs projector: DynamoDB Streams → OpenSearch with versioned bulk writes.

The Lambda entry point is ``projector.handler.lambda_handler``. The library API below is what the ops
tools (backfill, reindex, reconcile, redrive) build on; see projector/README.md. Importing this package
does not import Powertools or boto3.
"""

from projector.aliases import AliasResolver, resolve_alias
from projector.bulk import BulkAction, BulkWriter, Outcome, encode_document
from projector.convert import item as convert_item
from projector.documents import project_item, project_tombstone
from projector.entities import LISTING, REVIEW
from projector.indices import ensure_indices
from projector.purge import purge_tombstones
from projector.transport import Transport

__all__ = [
    "LISTING",
    "REVIEW",
    "AliasResolver",
    "BulkAction",
    "BulkWriter",
    "Outcome",
    "Transport",
    "convert_item",
    "encode_document",
    "ensure_indices",
    "project_item",
    "project_tombstone",
    "purge_tombstones",
    "resolve_alias",
]
