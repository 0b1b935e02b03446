"""Which document a stream record (or an item) changes, and at which version, without converting fields.

An item's entity comes from its ``type`` attribute, or, when that is absent, from its key shape. Items of
other types are not projected (skipped, not errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from projector.convert import AttributeValue
from projector.entities import BY_NAME, ID_SEPARATOR, LISTING, REVIEW, Entity
from projector.exceptions import ConversionError, PoisonRecordError

MAX_VERSION = 2**63 - 2
"""The largest item version: its tombstone (version + 1) must still fit OpenSearch's signed 64-bit long."""
MAX_ID_BYTES = 512
"""OpenSearch rejects longer document ids."""

Identity: TypeAlias = tuple[Entity, str, int, Mapping[str, AttributeValue], bool]
"""What a stream record changes: (entity, document id, version to write, image, is a tombstone).

A plain tuple: one is made per record, and a batch holds a thousand.
"""


def identify(record: Mapping[str, Any]) -> Identity | None:
    """Which document a stream record changes and at which version, without converting its fields.

    INSERT/MODIFY: the ``NewImage`` item at its version. REMOVE: its tombstone, from ``OldImage`` (or
    ``Keys``) at the old version + 1. None when the item is not projected.

    Raises
    ------
    PoisonRecordError
        The record can never be projected (malformed record, no version, bad id).
    """
    stream = record.get("dynamodb")
    if stream.__class__ is not dict:
        raise PoisonRecordError("malformed_record", "stream record has no 'dynamodb' object")
    event = record.get("eventName")
    if event == "INSERT" or event == "MODIFY":
        image = stream.get("NewImage")
        if image.__class__ is not dict:
            raise PoisonRecordError(
                "malformed_record",
                f"{event} record has no NewImage (stream view type must be NEW_AND_OLD_IMAGES)",
            )
        tombstone = False
    elif event == "REMOVE":
        image = stream.get("OldImage") or stream.get("Keys")
        if image.__class__ is not dict:
            raise PoisonRecordError("malformed_record", "REMOVE record has neither OldImage nor Keys")
        tombstone = True
    else:
        raise PoisonRecordError("malformed_record", f"unknown eventName {event!r}")
    # The usual shape is read inline and anything else goes to the helpers below, which decide the same way
    # and name the problem: three calls per record are a measurable share of the handler's work
    # (scripts/count_instructions.py; the figure is in projector/README.md, Performance).
    try:
        kind = image["type"]
        entity = BY_NAME[kind["S"]] if len(kind) == 1 else None
    except (KeyError, TypeError):
        entity = None
    if entity is None:
        entity = entity_of(image)
        if entity is None:
            return None
    try:
        doc_id = image["id"]["S"]
    except (KeyError, TypeError):
        doc_id = None
    if doc_id.__class__ is not str or not 0 < len(doc_id) <= MAX_ID_BYTES // 4:
        doc_id = doc_id_of(entity, image)
    try:
        text = image["version"]["N"]
    except (KeyError, TypeError):
        text = None
    if text.__class__ is str and len(text) <= 18 and text.isdigit() and text.isascii() and text[0] != "0":
        version = int(text)  # at most 18 digits: below MAX_VERSION
    else:
        version = version_of(entity, image)
    return entity, doc_id, version + 1 if tombstone else version, image, tombstone


def entity_of(image: Mapping[str, AttributeValue]) -> Entity | None:
    """The entity an item belongs to, or None when it is not projected."""
    kind = image.get("type")
    if kind is not None:
        if kind.__class__ is not dict or len(kind) != 1:
            raise ConversionError("the type attribute is not a DynamoDB attribute value")
        name = kind.get("S")
        return BY_NAME.get(name) if name.__class__ is str else None  # another type: not projected
    pk = _key_text(image, "pk")
    sk = _key_text(image, "sk")
    if pk.startswith("LISTING#"):
        if sk == "LISTING":
            return LISTING
        if sk.startswith("REVIEW#"):
            return REVIEW
    return None


def _key_text(image: Mapping[str, AttributeValue], name: str) -> str:
    attribute = image.get(name)
    text = attribute.get("S") if attribute.__class__ is dict else None
    return text if text.__class__ is str else ""


def doc_id_of(entity: Entity, image: Mapping[str, AttributeValue]) -> str:
    """The document id: the item's ``id`` attribute, else the id part of its key."""
    attribute = image.get("id")
    if attribute is not None:
        doc_id = attribute.get("S") if attribute.__class__ is dict else None
        if doc_id.__class__ is not str:
            raise PoisonRecordError("invalid_id", f"{entity.name} id must be a string attribute (S)")
    else:
        key = _key_text(image, entity.id_key)
        if not key.startswith(entity.id_prefix):
            raise PoisonRecordError(
                "missing_id", f"{entity.name} item has no id attribute and no id in its key"
            )
        doc_id = key[len(entity.id_prefix) :]
        if entity.parent_prefix is not None:
            # A review's key is (listing, author): its id joins both, as the API derives it.
            parent = _key_text(image, "pk")
            if not parent.startswith(entity.parent_prefix) or not doc_id:
                raise PoisonRecordError(
                    "missing_id", f"{entity.name} item has no id attribute and no id in its key"
                )
            doc_id = f"{parent[len(entity.parent_prefix) :]}{ID_SEPARATOR}{doc_id}"
    # At most 4 bytes per character: only long ids need encoding to check the byte limit.
    long = len(doc_id) > MAX_ID_BYTES // 4
    if not doc_id or (long and len(doc_id.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES):
        raise PoisonRecordError("invalid_id", f"{entity.name} id must be 1-{MAX_ID_BYTES} bytes")
    return doc_id


def version_of(entity: Entity, image: Mapping[str, AttributeValue]) -> int:
    """The item's ``version``: an integer in 1..2^63-2, or the record is poison (see README, no-version)."""
    attribute = image.get("version")
    if attribute is None:
        raise PoisonRecordError("missing_version", f"{entity.name} item has no version attribute")
    text = attribute.get("N") if attribute.__class__ is dict else None
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses.
    if text.__class__ is not str or not (text.isdigit() and text.isascii()):
        raise PoisonRecordError("invalid_version", f"{entity.name} version must be a positive integer N")
    version = int(text)
    if not 1 <= version <= MAX_VERSION:
        raise PoisonRecordError("invalid_version", f"{entity.name} version must be in 1..{MAX_VERSION}")
    return version


def is_ttl_delete(record: Mapping[str, Any]) -> bool:
    """A REMOVE made by DynamoDB's TTL process rather than by a caller."""
    identity = record.get("userIdentity")
    return (
        isinstance(identity, dict)
        and identity.get("type") == "Service"
        and identity.get("principalId") == "dynamodb.amazonaws.com"
    )
