"""What an item becomes in OpenSearch: its document, or the tombstone that stays when it is deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from projector import convert
from projector.convert import AttributeValue, JsonValue
from projector.entities import Entity
from projector.identity import doc_id_of, entity_of, version_of
from projector.times import iso_time


@dataclass(slots=True)
class Projection:
    """What one item (or one delete) becomes in OpenSearch."""

    entity: Entity
    doc_id: str
    version: int
    """The external version to write with."""
    document: dict[str, JsonValue]
    tombstone: bool = False


def document_of(
    entity: Entity, image: Mapping[str, AttributeValue], doc_id: str, version: int
) -> dict[str, JsonValue]:
    """A live item as a JSON document: ``id`` and ``version`` (as identified) and the entity's fields
    (see :mod:`projector.convert`).

    Raises
    ------
    ConversionError
        A projected attribute is not valid wire format.
    """
    document: dict[str, JsonValue] = entity.template.copy()
    document["id"] = doc_id
    document["version"] = version
    get = image.get
    for attribute, name in entity.string_fields:
        wire = get(attribute)
        if wire is None:
            del document[name]
            continue
        try:
            text = wire["S"]
        except (KeyError, TypeError):  # not an S, or not an object: the generic converter decides
            text = None
        document[name] = text if text.__class__ is str and len(wire) == 1 else convert.scalar(wire)
    for attribute, name, converter in entity.converted_fields:
        wire = get(attribute)
        if wire is None:
            del document[name]
        else:
            document[name] = converter(wire)
    return document


def tombstone_document(doc_id: str, deleted_at: datetime | float | None = None) -> dict[str, JsonValue]:
    """``{id, tombstone: true, deletedAt}``: what stays of a deleted item (hidden by the read alias)."""
    return {"id": doc_id, "tombstone": True, "deletedAt": iso_time(deleted_at)}


def project_item(image: Mapping[str, AttributeValue]) -> Projection | None:
    """Project a live item (DynamoDB typed wire format) to its document; None if it is not projected.

    Raises
    ------
    PoisonRecordError
        The item cannot be projected (no version, bad id, malformed value).
    """
    entity = entity_of(image)
    if entity is None:
        return None
    doc_id = doc_id_of(entity, image)
    version = version_of(entity, image)
    return Projection(entity, doc_id, version, document_of(entity, image, doc_id, version))


def project_tombstone(
    old_image: Mapping[str, AttributeValue], deleted_at: datetime | float | None = None
) -> Projection | None:
    """The tombstone for a deleted item: ``{id, tombstone: true, deletedAt}`` at version old + 1.

    ``deleted_at`` is when the delete happened (a datetime or epoch seconds; default now). Using the
    stream record's time keeps a retried tombstone byte-identical.
    """
    entity = entity_of(old_image)
    if entity is None:
        return None
    doc_id = doc_id_of(entity, old_image)
    version = version_of(entity, old_image) + 1
    return Projection(entity, doc_id, version, tombstone_document(doc_id, deleted_at), tombstone=True)
