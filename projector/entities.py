"""The entity registry: which item types are projected, their fields, and where their documents live.

The table is single-table (docs/design.md §1). Only the fields listed in an entity's rule reach the
document (mappings are ``dynamic: strict``); key attributes (``pk``, ``sk``, ``gsi1pk``, ``gsi1sk``),
``type`` and ``expiresAt`` never do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from projector import convert
from projector.convert import AttributeValue, JsonValue
from projector.names import IndexFamily, index_family

MAPPINGS_DIR = Path(__file__).parent / "mappings"
ID_SEPARATOR = "."
"""Joins a parent's id and a child's key part into the child's id (a Review's ``<listingId>.<author>``):
listing ids never hold a ``.`` (``[A-Za-z0-9_-]``), so the first one splits the id back into its key."""

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
    record's identity, see :func:`projector.identity.identify`)."""
    id_key: str
    """Which key attribute holds ``<PREFIX>#<id>`` when the item has no ``id`` attribute: ``pk`` or ``sk``."""
    id_prefix: str
    parent_prefix: str | None = None
    """For an entity keyed under a parent's partition (Review: ``pk = LISTING#<listingId>``, ``sk =
    REVIEW#<author>``): the ``pk`` prefix. Its id is then ``<parent id>.<id part of id_key>`` (see
    :data:`ID_SEPARATOR`), the id the API gives it, so the key alone still names the document."""
    string_fields: tuple[tuple[str, str], ...] = dataclasses.field(init=False, repr=False, compare=False)
    """(attribute, name) of the ``S`` fields, for :func:`projector.documents.document_of`."""
    converted_fields: tuple[tuple[str, str, FieldConverter], ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )
    """(attribute, name, converter) of the other fields."""
    template: dict[str, None] = dataclasses.field(init=False, repr=False, compare=False)
    """Every document key in order (``id``, ``version``, then the fields): a document fills a copy, a
    dict already sized for the whole document, instead of growing a new one key by key."""

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

    def key_of(self, doc_id: str) -> dict[str, str] | None:
        """The item key (``pk``, ``sk`` as plain strings) of the document ``doc_id``, or None when the id
        cannot be one of this entity's (docs/design.md §1)."""
        if self.parent_prefix is None:
            return {"pk": f"{self.id_prefix}{doc_id}", "sk": self.name.upper()}
        parent, separator, part = doc_id.partition(ID_SEPARATOR)
        if not separator or not parent or not part:
            return None
        return {"pk": f"{self.parent_prefix}{parent}", self.id_key: f"{self.id_prefix}{part}"}

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
    parent_prefix="LISTING#",
)
ENTITIES: tuple[Entity, ...] = (LISTING, REVIEW)
BY_NAME = {entity.name: entity for entity in ENTITIES}
"""Entities by their ``type`` attribute value."""


def load_mapping(entity: Entity) -> dict[str, Any]:
    """The create-index body (``{"mappings": ...}``) from the entity's versioned mapping file."""
    body: dict[str, Any] = json.loads(entity.mapping_file.read_text())
    return body
