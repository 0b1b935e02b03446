"""Read-side helpers over opensearch-py: which indices an alias spans, and every document's version.

Reconcile and reindex read concrete indices (not the filtered read alias), because tombstones matter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opensearchpy.exceptions import NotFoundError

from ops.errors import OpsError
from projector import aliases
from projector.transport import Response

if TYPE_CHECKING:
    from opensearchpy import OpenSearch


@dataclass(frozen=True, slots=True)
class DocVersion:
    """One document as reconcile sees it: its id, external version and whether it is a tombstone."""

    doc_id: str
    version: int
    tombstone: bool
    listing_id: str | None = None
    """A review's listing: with the id it makes the item's key (`LISTING#<listingId>` / `REVIEW#<id>`)."""


def alias_indices(client: OpenSearch, alias: str) -> list[str]:
    """The concrete indices behind `alias`, sorted; [] when the alias does not exist (the projector's
    own lookup, so both read an alias the same way)."""
    return list(aliases.alias_indices(_Requests(client), alias))


class _Requests:
    """An opensearch-py client as the projector's alias lookup calls it: a status and a JSON body."""

    def __init__(self, client: OpenSearch) -> None:
        self._client = client

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float | None = None
    ) -> Response:
        try:
            answer = self._client.transport.perform_request(method, path)
        except NotFoundError:
            return Response(404, b"")
        return Response(200, json.dumps(answer).encode())


def require_alias_indices(client: OpenSearch, alias: str) -> list[str]:
    indices = alias_indices(client, alias)
    if not indices:
        raise OpsError(
            f"alias {alias!r} does not exist: create indices and aliases first (python -m projector.indices)"
        )
    return indices


def iter_versions(client: OpenSearch, index: str, page_size: int = 1000) -> Iterator[DocVersion]:
    """Every document of `index` (tombstones included) in `id` order, paged with `search_after`."""
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "size": page_size,
            "sort": [{"id": "asc"}],
            "version": True,
            "_source": ["tombstone", "listingId"],
            "query": {"match_all": {}},
        }
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=index, body=body)["hits"]["hits"]
        for hit in hits:
            yield _doc_version(hit)
        if len(hits) < page_size:
            return
        after = hits[-1]["sort"]


def get_versions(client: OpenSearch, index: str, doc_ids: list[str]) -> dict[str, DocVersion]:
    """Current version and tombstone flag of the given documents (absent ones are left out)."""
    found: dict[str, DocVersion] = {}
    for start in range(0, len(doc_ids), 500):
        chunk = doc_ids[start : start + 500]
        reply = client.mget(
            index=index, body={"ids": chunk}, params={"_source_includes": "tombstone,listingId"}
        )
        for doc in reply["docs"]:
            if doc.get("found"):
                found[doc["_id"]] = _doc_version(doc)
    return found


def _doc_version(hit: dict[str, Any]) -> DocVersion:
    source = hit.get("_source") or {}
    listing_id = source.get("listingId")
    return DocVersion(
        hit["_id"],
        int(hit["_version"]),
        source.get("tombstone") is True,
        listing_id if isinstance(listing_id, str) else None,
    )
