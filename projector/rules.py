"""Projection rules: which DynamoDB items become which OpenSearch documents.

The table is single-table (docs/design.md §1). An item's entity comes from its ``type`` attribute, or,
when that is absent, from its key shape. Items of other types are not projected (skipped, not errors).
Only the fields listed in an entity's rule reach the document (mappings are ``dynamic: strict``); key
attributes (``pk``, ``sk``, ``gsi1pk``, ``gsi1sk``), ``type`` and ``expiresAt`` never do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

from projector import convert
from projector.convert import AttributeValue, JsonValue
from projector.exceptions import ConversionError, PoisonRecordError
from projector.names import IndexFamily, index_family

MAPPINGS_DIR = Path(__file__).parent / "mappings"
MAX_VERSION = 2**63 - 2
"""The largest item version: its tombstone (version + 1) must still fit OpenSearch's signed 64-bit long."""
MAX_ID_BYTES = 512
"""OpenSearch rejects longer document ids."""


FieldConverter: TypeAlias = Callable[[AttributeValue], JsonValue]


@dataclass(frozen=True, slots=True)
class Field:
    """One item attribute that reaches the document, and the DynamoDB type writers give it."""

    attribute: str
    name: str
    """The document field; differing from ``attribute`` is a rename."""
    converter: FieldConverter | None = None
    """The converter for the expected wire type; None for ``S`` (the usual case, taken inline). Any
    other valid wire value still converts (see :mod:`projector.convert`)."""


def _strings(*attributes: str) -> tuple[Field, ...]:
    return tuple(Field(attribute, attribute) for attribute in attributes)


def _number(attribute: str) -> Field:
    return Field(attribute, attribute, convert.number_value)


@dataclass(frozen=True, slots=True)
class Entity:
    """How one entity type is projected and where its documents live."""

    name: str
    """The ``type`` attribute's value, e.g. ``Listing``."""
    family: IndexFamily
    """Where its documents live: index and alias names from terraform/definitions/indices.json."""
    mapping_version: int
    fields: tuple[Field, ...]
    """What reaches the document besides ``id`` and ``version`` (always present: they come from the
    record's identity, see :func:`identify`)."""
    id_key: str
    """Which key attribute holds ``<PREFIX>#<id>`` when the item has no ``id`` attribute: ``pk`` or ``sk``."""
    id_prefix: str
    string_fields: tuple[tuple[str, str], ...] = dataclasses.field(init=False, repr=False, compare=False)
    """(attribute, name) of the ``S`` fields, for :func:`document_of`."""
    converted_fields: tuple[tuple[str, str, FieldConverter], ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )
    """(attribute, name, converter) of the other fields."""
    template: dict[str, None] = dataclasses.field(init=False, repr=False, compare=False)
    """Every document key in order (``id``, ``version``, then the fields): :func:`document_of` fills a copy,
    a dict already sized for the whole document, instead of growing a new one key by key."""

    def __post_init__(self) -> None:
        # Split once, so converting a document needs no test per field to tell the two kinds apart.
        strings = tuple((f.attribute, f.name) for f in self.fields if f.converter is None)
        converted = tuple((f.attribute, f.name, f.converter) for f in self.fields if f.converter is not None)
        object.__setattr__(self, "string_fields", strings)
        object.__setattr__(self, "converted_fields", converted)
        names = ["id", "version", *(name for _, name in strings), *(name for _, name, _ in converted)]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: two fields share a document name")
        object.__setattr__(self, "template", dict.fromkeys(names))

    @property
    def base(self) -> str:
        """The index family's name (mapping files, the ops commands' ``--entity``)."""
        return self.family.family

    def index(self, prefix: str = "") -> str:
        """The concrete index the mapping file describes: the family's index prefix and mapping version."""
        return f"{prefix}{self.family.index_prefix}{self.mapping_version}"

    def write_alias(self, prefix: str = "") -> str:
        return f"{prefix}{self.family.write_alias}"

    def read_alias(self, prefix: str = "") -> str:
        return f"{prefix}{self.family.read_alias}"

    @property
    def mapping_file(self) -> Path:
        return MAPPINGS_DIR / f"{self.base}.v{self.mapping_version}.json"


LISTING = Entity(
    name="Listing",
    family=index_family("Listing"),
    mapping_version=1,
    fields=(
        *_strings("title", "description", "category"),
        Field("tags", "tags", convert.string_list),
        _number("price"),
        *_strings("currency"),
        Field("location", "location", convert.lat_lon),
        *_strings("city", "owner", "status", "createdAt", "updatedAt"),
    ),
    id_key="pk",
    id_prefix="LISTING#",
)
REVIEW = Entity(
    name="Review",
    family=index_family("Review"),
    mapping_version=1,
    fields=(
        *_strings("listingId"),
        _number("rating"),
        *_strings("text", "author", "createdAt"),
    ),
    id_key="sk",
    id_prefix="REVIEW#",
)
ENTITIES: tuple[Entity, ...] = (LISTING, REVIEW)
_BY_NAME = {entity.name: entity for entity in ENTITIES}


@dataclass(slots=True)
class Projection:
    """What one item (or one delete) becomes in OpenSearch."""

    entity: Entity
    doc_id: str
    version: int
    """The external version to write with."""
    document: dict[str, JsonValue]
    tombstone: bool = False


def entity_of(image: Mapping[str, AttributeValue]) -> Entity | None:
    """The entity an item belongs to, or None when it is not projected."""
    kind = image.get("type")
    if kind is not None:
        if kind.__class__ is not dict or len(kind) != 1:
            raise ConversionError("the type attribute is not a DynamoDB attribute value")
        name = kind.get("S")
        return _BY_NAME.get(name) if name.__class__ is str else None  # another type: not projected
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
    # The usual shape inline (a thousand records a batch); anything else takes the functions above, which
    # decide the same way and name the problem.
    try:
        kind = image["type"]
        entity = _BY_NAME[kind["S"]] if len(kind) == 1 else None
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


def document_of(
    entity: Entity, image: Mapping[str, AttributeValue], doc_id: str, version: int
) -> dict[str, JsonValue]:
    """A live item as a JSON document: ``id`` and ``version`` (as :func:`identify` read them) and the
    entity's fields (see :mod:`projector.convert`).

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


def tombstone_document(doc_id: str, deleted_at: datetime | float | None = None) -> dict[str, JsonValue]:
    """``{id, tombstone: true, deletedAt}``: what stays of a deleted item (hidden by the read alias)."""
    return {"id": doc_id, "tombstone": True, "deletedAt": iso_time(deleted_at)}


def iso_time(moment: datetime | float | None = None) -> str:
    """ISO-8601 UTC with milliseconds, like ``2026-01-02T03:04:05.000Z``; now if ``moment`` is None.

    Epoch seconds outside years 1970-9999 (or not a number at all, from a malformed record) mean now.
    """
    if isinstance(moment, int | float):
        if 0 <= moment < _YEAR_10000:
            return _iso_seconds(float(moment))
    elif isinstance(moment, datetime):
        return _iso(moment)
    return _iso(None)


_YEAR_10000 = 253402300800


@lru_cache(maxsize=256)
def _iso_seconds(moment: float) -> str:
    # Stream times are whole seconds and a batch spans few of them: format each once.
    return _iso(moment)


def _iso(moment: datetime | float | None) -> str:
    if moment is None:
        moment = datetime.now(UTC)
    elif not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def project_record(record: Mapping[str, Any]) -> Projection | None:
    """Project one DynamoDB stream record (INSERT/MODIFY → document, REMOVE → tombstone).

    Returns None for items that are not projected. Raises PoisonRecordError for records that can never
    be projected.
    """
    identity = identify(record)
    if identity is None:
        return None
    entity, doc_id, version, _, tombstone = identity
    return Projection(entity, doc_id, version, document_for(identity, record), tombstone)


def document_for(identity: Identity, record: Mapping[str, Any]) -> dict[str, JsonValue]:
    """What an identified record writes: its item's fields, or (REMOVE) its tombstone, dated by the
    record's ``ApproximateCreationDateTime`` so a retried tombstone is identical.

    Raises
    ------
    ConversionError
        A projected attribute is not valid wire format.
    """
    entity, doc_id, version, image, tombstone = identity
    if tombstone:
        return tombstone_document(doc_id, record["dynamodb"].get("ApproximateCreationDateTime"))
    return document_of(entity, image, doc_id, version)


def is_ttl_delete(record: Mapping[str, Any]) -> bool:
    """A REMOVE made by DynamoDB's TTL process rather than by a caller."""
    identity = record.get("userIdentity")
    return (
        isinstance(identity, dict)
        and identity.get("type") == "Service"
        and identity.get("principalId") == "dynamodb.amazonaws.com"
    )


def load_mapping(entity: Entity) -> dict[str, Any]:
    """The create-index body (``{"mappings": ...}``) from the entity's versioned mapping file."""
    import json

    body: dict[str, Any] = json.loads(entity.mapping_file.read_text())
    return body
