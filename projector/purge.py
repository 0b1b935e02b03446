"""Purge tombstones older than the retention (default 48 h, longer than the 24 h stream retention).

    python -m projector.purge --endpoint URL [--retention-hours 48] [--prefix P]

A tombstone must outlive every possible replay of what it deleted: after the stream's 24 h retention no
older record can arrive, so removing it later cannot resurrect anything.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from projector.aliases import resolve_alias
from projector.config import STREAM_RETENTION_HOURS
from projector.exceptions import AliasMissingError, ProjectorError, TransportError
from projector.rules import ENTITIES, Entity, iso_time
from projector.transport import AUTH_MODES, Transport


def purge_tombstones(
    transport: Transport,
    retention_hours: float = 48.0,
    prefix: str = "",
    entities: Sequence[Entity] = ENTITIES,
    now: float | None = None,
) -> dict[str, int]:
    """Delete tombstones whose ``deletedAt`` is older than ``retention_hours`` in every write index.

    Returns the number of tombstones deleted per concrete index. A tombstone replaced by a newer
    document meanwhile is not touched (``conflicts=proceed``; the query only matches tombstones).

    Raises
    ------
    ValueError
        ``retention_hours`` is not above the 24 h stream retention.
    TransportError
        OpenSearch refused the delete-by-query.
    """
    if not retention_hours > STREAM_RETENTION_HOURS:
        raise ValueError(f"retention_hours must be more than {STREAM_RETENTION_HOURS}, got {retention_hours}")
    cutoff = iso_time((time.time() if now is None else now) - retention_hours * 3600.0)
    query: dict[str, Any] = {
        "query": {
            "bool": {"filter": [{"term": {"tombstone": True}}, {"range": {"deletedAt": {"lt": cutoff}}}]}
        }
    }
    deleted: dict[str, int] = {}
    for entity in entities:
        try:
            indices = resolve_alias(transport, entity.write_alias(prefix))
        except AliasMissingError:
            continue
        for index in indices:
            answer = transport.request(
                "POST",
                f"/{index}/_delete_by_query?conflicts=proceed&refresh=true",
                json.dumps(query).encode(),
            )
            if answer.status != 200:
                raise TransportError(f"purge {index}: HTTP {answer.status}: {answer.body[:300]!r}")
            deleted[index] = int(json.loads(answer.body).get("deleted", 0))
    return deleted


def main(argv: Sequence[str] | None = None) -> int:
    import argparse  # only the command line needs it; the handler imports this module too

    parser = argparse.ArgumentParser(prog="python -m projector.purge", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-e", "--endpoint", default=os.environ.get("OPENSEARCH_ENDPOINT"), help="OpenSearch URL"
    )
    parser.add_argument(
        "-a",
        "--auth",
        default=os.environ.get("OPENSEARCH_AUTH", "none"),
        choices=AUTH_MODES,
        help="request signing",
    )
    parser.add_argument(
        "-p", "--prefix", default=os.environ.get("INDEX_PREFIX", ""), help="index/alias prefix"
    )
    parser.add_argument(
        "-r",
        "--retention-hours",
        type=float,
        default=float(os.environ.get("TOMBSTONE_RETENTION_HOURS", "48")),
        help="keep tombstones younger than this (> 24)",
    )
    args = parser.parse_args(argv)
    if not args.endpoint:
        parser.error("--endpoint (or OPENSEARCH_ENDPOINT) is required")
    try:
        transport = Transport(args.endpoint, args.auth, os.environ.get("AWS_REGION"))
        report = purge_tombstones(transport, args.retention_hours, args.prefix)
    except (ProjectorError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
