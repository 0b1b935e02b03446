"""Purge tombstones older than the retention (default 48 h, longer than the 24 h stream retention).

    python -m projector.purge --endpoint URL [--retention-hours 48] [--prefix P]

On AWS, ``projector.purge.lambda_handler`` runs it on a schedule (EventBridge, terraform/modules/projector),
configured by the projector's own environment variables.

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
from projector.config import STREAM_RETENTION_HOURS, Config
from projector.entities import ENTITIES, Entity
from projector.exceptions import AliasMissingError, ProjectorError, TransportError
from projector.times import iso_time
from projector.transport import Transport


def purge_tombstones(
    transport: Transport,
    retention_hours: float = 48.0,
    prefix: str = "",
    entities: Sequence[Entity] = ENTITIES,
    now: float | None = None,
    require_aliases: bool = False,
) -> dict[str, int]:
    """Delete tombstones whose ``deletedAt`` is older than ``retention_hours`` in every write index.

    Returns the number of tombstones deleted per concrete index. A tombstone replaced by a newer
    document meanwhile is not touched (``conflicts=proceed``; the query only matches tombstones).
    A missing write alias is skipped unless ``require_aliases`` (the scheduled purge: a deployed stack
    always has them, so a missing one means a wrong endpoint or prefix).

    Raises
    ------
    ValueError
        ``retention_hours`` is not above the 24 h stream retention.
    AliasMissingError
        ``require_aliases`` and a write alias does not exist.
    TransportError
        OpenSearch could not be reached, refused the delete-by-query, or reported shard failures or a
        timeout in it (some tombstones may then remain; the next run deletes them).
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
            if require_aliases:
                raise
            continue
        for index in indices:
            answer = transport.request(
                "POST",
                f"/{index}/_delete_by_query?conflicts=proceed&refresh=true",
                json.dumps(query).encode(),
            )
            if answer.status != 200:
                raise TransportError(f"purge {index}: HTTP {answer.status}: {answer.body[:300]!r}")
            try:
                report = json.loads(answer.body)
                count = int(report.get("deleted", 0))
            except (ValueError, TypeError, AttributeError) as exc:
                raise TransportError(f"purge {index}: unparseable answer {answer.body[:300]!r}") from exc
            # A 200 can still carry shard or bulk failures, or a timeout: not a clean purge.
            if report.get("failures") or report.get("timed_out"):
                raise TransportError(
                    f"purge {index}: deleted {count}, then failed: "
                    f"{json.dumps(report.get('failures') or 'timed_out')[:300]}"
                )
            deleted[index] = count
    return deleted


# ---------------------------------------------------------------------------------------------------------
# Lambda entry point (EventBridge schedule). Powertools is imported on the first invocation only, so that
# importing ``projector`` (the library) stays free of it.
# ---------------------------------------------------------------------------------------------------------
_TIME_RESERVE_S = 5.0  # left to log, flush metrics and return before Lambda's own timeout
_runtime: _PurgeRuntime | None = None


class _PurgeRuntime:
    """Configuration, logger and metrics, built once per process."""

    def __init__(self, config: Config) -> None:
        from aws_lambda_powertools import Logger, Metrics

        self.config = config
        self.logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "projector-purge")
        self.metrics = Metrics(namespace=config.metrics_namespace, service=self.logger.service)


def _purge_runtime() -> _PurgeRuntime:
    global _runtime
    if _runtime is None:
        # The projector's own parsing and validation; the purge never dead-letters, so no queue URL.
        _runtime = _PurgeRuntime(Config.from_env(dead_letter_queue=False))
    return _runtime


def reset() -> None:
    """Forget the cached configuration (tests, a process that changes its environment)."""
    global _runtime
    _runtime = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Purge old tombstones from every index behind each write alias; raise if OpenSearch refuses.

    Returns ``{"deleted": {index: count}, "total": count, "retention_hours": hours}``. Emits the metric
    ``tombstones_purged`` per index (dimension ``index``) and in total. Any failure (unreachable or
    refusing OpenSearch, a missing write alias, bad configuration) is logged and re-raised, so the
    invocation errors and the function's Errors alarm fires; the next scheduled run starts over (a purge
    is idempotent).
    """
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    run = _purge_runtime()
    config, logger, metrics = run.config, run.logger, run.metrics
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context is not None else 900.0
    transport = Transport(
        config.opensearch_endpoint,
        config.opensearch_auth,
        config.region,
        # One delete-by-query may take long on a big index: allow up to what the invocation has left.
        read_timeout=max(1.0, remaining - _TIME_RESERVE_S),
    )
    try:
        deleted = purge_tombstones(
            transport, config.tombstone_retention_hours, config.index_prefix, require_aliases=True
        )
    except (ProjectorError, ValueError) as exc:
        metrics.add_metric(name="tombstone_purge_failed", unit=MetricUnit.Count, value=1)
        logger.exception(
            "tombstone purge failed",
            extra={"error_type": type(exc).__name__, "endpoint": config.opensearch_endpoint},
        )
        metrics.flush_metrics()
        raise
    finally:
        transport.close()
    total = sum(deleted.values())
    for index, count in sorted(deleted.items()):
        with single_metric(
            name="tombstones_purged",
            unit=MetricUnit.Count,
            value=count,
            namespace=config.metrics_namespace,
            default_dimensions={"service": logger.service},
        ) as metric:
            metric.add_dimension(name="index", value=index)
    metrics.add_metric(name="tombstones_purged", unit=MetricUnit.Count, value=total)
    metrics.flush_metrics()
    logger.info(
        "tombstones purged",
        extra={
            "deleted": deleted,
            "total": total,
            "retention_hours": config.tombstone_retention_hours,
            "index_prefix": config.index_prefix,
        },
    )
    return {"deleted": deleted, "total": total, "retention_hours": config.tombstone_retention_hours}


def main(argv: Sequence[str] | None = None) -> int:
    from projector.cli import opensearch_parser, transport_from  # only the command line needs argparse

    parser = opensearch_parser("python -m projector.purge", __doc__.split("\n\n")[0])
    parser.add_argument(
        "-r",
        "--retention-hours",
        type=float,
        default=float(os.environ.get("TOMBSTONE_RETENTION_HOURS", "48")),
        help="keep tombstones younger than this (> 24)",
    )
    args = parser.parse_args(argv)
    try:
        transport = transport_from(parser, args)
        report = purge_tombstones(transport, args.retention_hours, args.prefix)
    except (ProjectorError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
