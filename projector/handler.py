"""The Lambda entry point: ``projector.handler.lambda_handler`` for DynamoDB stream events.

Records in, a response out: :meth:`StreamProjector.project` returns the batch's result, from which the
partial batch response (``batchItemFailures``), the metrics and the logs are made. Nothing of a batch stays
behind on the objects built once per process.

Configuration is read from the environment on the first call and cached (a process may set variables
before calling); :func:`reset` drops the cache (tests, the local stack).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from projector.aliases import AliasResolver
from projector.bulk import BulkWriter
from projector.config import Config
from projector.dlq import DeadLetterQueue
from projector.signal import PublishResult, SignalPublisher
from projector.stream import BatchResult, StreamProjector
from projector.transport import Transport

if TYPE_CHECKING:  # the response's shape only: Powertools' batch package is not needed at run time
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "projector")


class _Runtime:
    """Everything built from the configuration once per process (connections are reused)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.transport = Transport(config.opensearch_endpoint, config.opensearch_auth, config.region)
        self.writer = BulkWriter(self.transport, config.bulk_max_bytes, config.bulk_max_actions)
        self.projector = StreamProjector(
            self.writer,
            AliasResolver(self.transport),
            DeadLetterQueue(config.dead_letter_queue_url),
            index_prefix=config.index_prefix,
            signals=config.projection_signal_url is not None,
        )
        self.signals: SignalPublisher | None = None
        if config.projection_signal_url is not None:
            budget_s = config.projection_signal_budget_ms / 1000.0
            # Its own pool and timeouts no longer than the budget: a slow AppSync never holds the batch.
            self.signals = SignalPublisher(
                Transport(
                    config.projection_signal_url,
                    "sigv4",
                    config.region,
                    connect_timeout=budget_s,
                    read_timeout=budget_s,
                    max_connections=1,
                    service="appsync",
                    ca_file=config.projection_signal_ca_file,
                ),
                config.projection_signal_budget_ms,
            )
        self.metrics = Metrics(namespace=config.metrics_namespace, service=logger.service)
        self.tracer: Any = _tracer()


def _tracer() -> Any:
    """Powertools' Tracer inside Lambda unless POWERTOOLS_TRACE_DISABLED; None when off or unavailable."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return None
    try:
        import aws_xray_sdk  # noqa: F401 - the Lambda runtime does not ship it; a layer may
    except ImportError:
        logger.warning("tracing is on but aws-xray-sdk is not installed (add it as a layer); tracing off")
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=logger.service)


_runtime: _Runtime | None = None


def runtime() -> _Runtime:
    """The cached runtime; the first call reads and validates the configuration (ConfigError if bad)."""
    global _runtime
    if _runtime is None:
        _runtime = _Runtime(Config.from_env())
        logger.info(
            "projector configured",
            extra={
                "opensearch_auth": _runtime.config.opensearch_auth,
                "bulk_max_bytes": _runtime.config.bulk_max_bytes,
                "bulk_max_actions": _runtime.config.bulk_max_actions,
                "index_prefix": _runtime.config.index_prefix,
                "projection_signal": _runtime.signals is not None,
            },
        )
    return _runtime


def reset() -> None:
    """Forget the cached configuration and connections."""
    global _runtime
    if _runtime is not None:
        _runtime.transport.close()
        if _runtime.signals is not None:
            _runtime.signals.transport.close()
    _runtime = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Project a DynamoDB stream batch; return the partial batch response."""
    run = runtime()
    records = event.get("Records")
    if not records:  # Lambda never sends an empty batch
        return {"batchItemFailures": []}
    started = time.perf_counter()
    # A batch allocates many short-lived, acyclic objects that reference counting frees; left on, the
    # cyclic collector would rescan them many times per batch for nothing (projector/README.md).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if run.tracer is not None:
            with run.tracer.provider.in_subsegment("## project_batch"):
                result = run.projector.project(records, context)
        else:
            result = run.projector.project(records, context)
        # After the batch's outcome is settled, which the signal cannot change (projector/signal.py).
        published = (
            run.signals.publish(result.signals) if run.signals is not None and result.signals else None
        )
        _report(run, result, records, (time.perf_counter() - started) * 1000.0, published)
    finally:
        if collecting:
            gc.enable()
    return dict(partial_response(records, result))


def partial_response(records: list[dict[str, Any]], result: BatchResult) -> PartialItemFailureResponse:
    """Lambda's partial batch response: the failed records' sequence numbers, in record order.

    What Powertools' ``BatchProcessor`` reports for DynamoDB Streams (``{"itemIdentifier": <SequenceNumber>}``
    per failed record, no exception when all fail), built from the result instead of a pass per record.
    """
    failures: list[PartialItemFailures] = [
        # A record with no sequence number (malformed) reports null, as Powertools would.
        {"itemIdentifier": _sequence(records, position)}  # type: ignore[typeddict-item]
        for position in sorted(result.failures)
    ]
    return {"batchItemFailures": failures}


def metric_set(result: BatchResult, published: PublishResult | None = None) -> dict[str, dict[str, Any]]:
    """The batch's metrics in the shape Powertools' ``add_metric`` accumulates (name → unit, resolution,
    values), built in one pass: ``add_metric`` validates every call and formats a debug message even when
    debug logging is off, which was a sizeable share of a small batch's cost (projector/README.md)."""
    metrics = {
        name: _metric(_COUNT, [count])
        for name, count in result.counts().items()
        if count or name == "records"  # zeros carry no information and cost EMF space
    }
    if published is not None:
        # Both names, zeros included, whenever a publication was attempted: a dashboard divides them.
        metrics["signals_published"] = _metric(_COUNT, [published.published])
        metrics["signal_publish_failed"] = _metric(_COUNT, [published.failed])
    if result.bulk.latencies_ms:
        # EMF takes at most 100 values per metric.
        metrics["bulk_latency"] = _metric(_MILLISECONDS, result.bulk.latencies_ms[:100])
    if result.max_lag_ms is not None:
        metrics["projection_lag"] = _metric(_MILLISECONDS, [result.max_lag_ms])
    return metrics


_COUNT = MetricUnit.Count.value
_MILLISECONDS = MetricUnit.Milliseconds.value


def _metric(unit: str, values: Sequence[float]) -> dict[str, Any]:
    return {"Unit": unit, "StorageResolution": 60, "Value": [float(value) for value in values]}


def _publish(metrics: Metrics, values: dict[str, dict[str, Any]]) -> None:
    """Print one EMF blob, as ``Metrics.flush_metrics`` does, from a metric set built in one pass."""
    if is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, or POWERTOOLS_DEV without it
        return
    print(json.dumps(metrics.serialize_metric_set(metrics=values), separators=(",", ":")))


def _report(
    run: _Runtime,
    result: BatchResult,
    records: list[dict[str, Any]],
    elapsed_ms: float,
    published: PublishResult | None = None,
) -> None:
    _publish(run.metrics, metric_set(result, published))
    if published is not None:
        for problem in published.problems:
            logger.warning("projection signal not delivered", extra={"reason": problem})
    contents = run.config.log_item_contents
    for position, error in sorted(result.failures.items()):
        extra: dict[str, Any] = {"sequence_number": _sequence(records, position)}
        logger.warning(
            "record not projected; reported for retry",
            extra={**extra, **error_log_fields(error.code, error.reason, contents)},
        )
    for position, letter in result.dead_letters:
        extra = {"sequence_number": _sequence(records, position)}
        extra.update(error_log_fields(letter.code, letter.reason, contents))
        if contents:
            extra["record"] = letter.record
        logger.error("poison record sent to the dead-letter queue", extra=extra)
    if logger.log_level > logging.DEBUG:
        return  # the counts are in the metrics; a line per batch is for debugging (LOG_LEVEL=DEBUG)
    logger.debug(
        "batch projected",
        extra={
            "records": result.records, "indexed": result.indexed, "deleted": result.deleted,
            "stale": result.stale, "poisoned": result.poisoned, "failed": result.failed,
            "skipped": result.skipped, "collapsed": result.collapsed, "elapsed_ms": round(elapsed_ms, 1),
            "first_sequence_number": _sequence(records, 0),
        },
    )  # fmt: skip


# Codes whose reason the projector or the transport wrote without reading the document: safe to log.
_REASON_WITHOUT_CONTENTS = frozenset(
    {"connection_error", "deadline", "bad_response", "alias_missing", "alias_unavailable"}
)
# Where OpenSearch's reasons name the field: "failed to parse field [price] of type [float] in document
# with id 'l1'. Preview of field's value: 'abc'", "mapper [price] cannot be changed ...", "object mapping
# for [location] tried to parse field [location] as object ...", "unknown field [x]".
_FIELD_IN_REASON = re.compile(r"(?:field|mapper|mapping for|parse) \[([^\[\]]{1,255})\]")


def error_log_fields(code: str, reason: str | None, contents_allowed: bool) -> dict[str, Any]:
    """What a log line may say about a failed record: the error's type and the field it names.

    OpenSearch's rejection reasons quote the document (a mapper error previews the field's value), and so
    do the projector's own conversion errors, so the reason is logged only when item contents may be
    (``LOG_ITEM_CONTENTS``) or when nothing of the document can be in it. The dead letter keeps it whole.
    """
    match = _FIELD_IN_REASON.search(reason or "")
    fields: dict[str, Any] = {"code": code, "field": match.group(1) if match else None}
    if reason is not None and (contents_allowed or code in _REASON_WITHOUT_CONTENTS):
        fields["reason"] = reason
    return fields


def _sequence(records: list[dict[str, Any]], position: int) -> str | None:
    if position >= len(records):
        return None
    stream = records[position].get("dynamodb") or {}
    value = stream.get("SequenceNumber")
    return value if isinstance(value, str) else None
