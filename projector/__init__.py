"""appsync-cqrs projector: DynamoDB Streams → OpenSearch with versioned bulk writes.

The Lambda entry point is ``projector.handler.lambda_handler``. The library API below is what the ops
tools (backfill, reindex, reconcile, redrive) build on; see projector/README.md. Importing this package
does not import Powertools or boto3.
"""

from projector.aliases import AliasResolver, resolve_alias
from projector.bulk import BulkAction, BulkWriter, ItemResult, Outcome, RetryPolicy, encode_document
from projector.convert import item as convert_item
from projector.convert import number as convert_number
from projector.convert import value as convert_value
from projector.dlq import DeadLetter, DeadLetterQueue
from projector.documents import Projection, project_item, project_tombstone
from projector.entities import ENTITIES, LISTING, REVIEW, Entity
from projector.exceptions import (
    AliasMissingError,
    ConfigError,
    ConversionError,
    PoisonRecordError,
    ProjectorError,
    RetryableError,
    TransportError,
)
from projector.identity import entity_of
from projector.indices import ensure_indices
from projector.purge import purge_tombstones
from projector.stream import BatchResult, StreamProjector
from projector.transport import Transport

__all__ = [
    "ENTITIES",
    "LISTING",
    "REVIEW",
    "AliasMissingError",
    "AliasResolver",
    "BatchResult",
    "BulkAction",
    "BulkWriter",
    "ConfigError",
    "ConversionError",
    "DeadLetter",
    "DeadLetterQueue",
    "Entity",
    "ItemResult",
    "Outcome",
    "PoisonRecordError",
    "Projection",
    "ProjectorError",
    "RetryPolicy",
    "RetryableError",
    "StreamProjector",
    "Transport",
    "TransportError",
    "convert_item",
    "convert_number",
    "convert_value",
    "encode_document",
    "ensure_indices",
    "entity_of",
    "project_item",
    "project_tombstone",
    "purge_tombstones",
    "resolve_alias",
]
