"""Create or update the projector's indices and aliases, idempotently.

    python -m projector.indices --endpoint http://127.0.0.1:9200 [--auth none] [--prefix test-]

For each entity: create ``<base>-v<N>`` from ``projector/mappings/<base>.v<N>.json`` if it is missing,
else put the mapping again (adding new fields; a conflicting change fails loudly). Create the write alias
``<base>-write`` and the filtered read alias ``<base>`` only when they do not exist yet, so aliases that
an ops reindex has moved to a newer index are left alone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from projector.aliases import alias_indices
from projector.entities import ENTITIES, Entity, load_mapping
from projector.exceptions import ProjectorError, TransportError
from projector.transport import Transport

READ_FILTER: dict[str, Any] = {"bool": {"must_not": [{"term": {"tombstone": True}}]}}
"""The read aliases' filter: tombstones never appear in searches."""


def ensure_indices(
    transport: Transport,
    prefix: str = "",
    entities: Sequence[Entity] = ENTITIES,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Create or update indices and aliases; returns what was done per entity (for logs and tests).

    ``settings`` are index settings applied when an index is created, e.g.
    ``{"index.gc_deletes": "0s"}``.

    Raises
    ------
    TransportError
        OpenSearch refused a step (the message names the step and the answer).
    """
    report: dict[str, list[str]] = {}
    for entity in entities:
        steps: list[str] = []
        index = entity.index(prefix)
        served_by = alias_indices(transport, entity.read_alias(prefix))
        if served_by and index not in served_by:
            # A reindex moved the read alias to a newer index: re-creating this one would only add an
            # empty, unaliased index (and the reindex owns the aliases now).
            report[entity.name] = [
                f"left alone: {entity.read_alias(prefix)} is served by {', '.join(served_by)}"
            ]
            continue
        body = load_mapping(entity)
        exists = transport.request("HEAD", f"/{index}").status == 200
        if exists:
            _check(transport.request("PUT", f"/{index}/_mapping", _json(body["mappings"])), f"update {index}")
            steps.append(f"updated mapping of {index}")
        else:
            create = dict(body)
            if settings:
                create["settings"] = dict(settings)
            _check(transport.request("PUT", f"/{index}", _json(create)), f"create {index}")
            steps.append(f"created {index}")
        actions: list[dict[str, Any]] = []
        if not alias_indices(transport, entity.write_alias(prefix)):
            actions.append({"add": {"index": index, "alias": entity.write_alias(prefix)}})
        if not served_by:
            actions.append(
                {"add": {"index": index, "alias": entity.read_alias(prefix), "filter": READ_FILTER}}
            )
        if actions:
            _check(transport.request("POST", "/_aliases", _json({"actions": actions})), f"aliases of {index}")
            steps.extend(f"added alias {action['add']['alias']} → {index}" for action in actions)
        report[entity.name] = steps
    return report


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _check(response: Any, step: str) -> None:
    if response.status >= 300:
        raise TransportError(
            f"{step}: HTTP {response.status}: {response.body[:300].decode('utf-8', 'replace')}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    from projector.cli import opensearch_parser, transport_from  # only the command line needs argparse

    parser = opensearch_parser("python -m projector.indices", __doc__.split("\n\n")[0])
    parser.add_argument(
        "-s", "--setting", action="append", default=[], metavar="KEY=VALUE", help="index setting on creation"
    )
    args = parser.parse_args(argv)
    try:
        settings = dict(item.split("=", 1) for item in args.setting)
    except ValueError:
        parser.error("--setting takes KEY=VALUE")
    try:
        transport = transport_from(parser, args)
        report = ensure_indices(transport, args.prefix, settings=settings)
    except ProjectorError as exc:  # ConfigError included
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
