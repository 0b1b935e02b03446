"""The operations dashboard graphs the metrics the projector's code emits, under the names it emits them.

terraform/dashboard.tf builds its custom-metric graphs from terraform/definitions/metrics.json (namespace,
Powertools `service` per function, metric names); tests/dashboard.tftest.hcl checks the rendered body
against the stack's resources. This test closes the loop on the code side: every name in that file is
emitted by the function whose service it is filed under (the projector's names are read from the metric
set its handler builds for a batch where everything happened; the purge's from its `add_metric(name=...)`
and `single_metric(name=...)` calls), and the service and namespace are what Terraform sets in the functions'
environment. A renamed metric would otherwise leave a flat, silent graph.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from projector.bulk import BulkStats
from projector.dlq import DeadLetter
from projector.exceptions import RetryableError
from projector.handler import metric_set
from projector.signal import PublishResult
from projector.stream import BatchResult

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
METRICS = json.loads((TERRAFORM / "definitions" / "metrics.json").read_text())

# Issue 16 item 6: what an operator looks at first must be on the dashboard.
OPERATOR_FIRST = {"indexed", "stale", "poisoned", "retried", "bulk_latency", "projection_lag"} | {
    "signals_published",
    "signal_publish_failed",
}


def _literal_metric_names(path: Path) -> set[str]:
    """`name="..."` of every add_metric/single_metric call in a module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if called not in ("add_metric", "single_metric"):
            continue
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                names.add(str(keyword.value.value))
    return names


def projector_emits() -> set[str]:
    """The names the handler's one-pass metric set carries for a batch where every counter is non-zero."""
    failure = RetryableError("x", "failed")
    result = BatchResult(
        records=1, failures={0: failure}, dead_letters=((0, DeadLetter({}, "x", "poisoned")),),
        bulk=BulkStats(requests=1, retried_items=1, latencies_ms=(1.0,)), max_lag_ms=1.0,
        indexed=1, deleted=1, ttl_deleted=1, stale=1, skipped=1, collapsed=1,
    )  # fmt: skip
    assert all(result.counts().values()), "a counter stayed zero: the collector would miss its name"
    return set(metric_set(result, PublishResult(published=1, failed=1)))


def purge_emits() -> set[str]:
    return _literal_metric_names(REPO / "projector" / "purge.py")


def dashboard_projector_names() -> set[str]:
    projector = METRICS["projector"]
    return {projector["lag"], projector["bulk_latency"], *projector["outcomes"], *projector["signals"]}


def test_the_collectors_find_what_the_code_emits() -> None:
    # Written out: if the collectors broke, every later comparison would pass against an empty set.
    assert {"records", "indexed", "stale", "poisoned", "retried", "bulk_latency", "projection_lag"} <= (
        projector_emits()
    )
    assert purge_emits() == {"tombstones_purged", "tombstone_purge_failed"}


def test_every_projector_metric_on_the_dashboard_is_emitted_by_the_projector() -> None:
    missing = dashboard_projector_names() - projector_emits()
    assert not missing, (
        f"definitions/metrics.json names metrics the projector does not emit: {sorted(missing)}"
    )


def test_every_purge_metric_on_the_dashboard_is_emitted_by_the_purge() -> None:
    missing = set(METRICS["purge"]["counts"]) - purge_emits()
    assert not missing, f"definitions/metrics.json names metrics the purge does not emit: {sorted(missing)}"


def test_what_an_operator_looks_at_first_is_on_the_dashboard() -> None:
    assert dashboard_projector_names() >= OPERATOR_FIRST


def test_service_and_namespace_are_the_ones_terraform_sets() -> None:
    """Powertools' `service` dimension is POWERTOOLS_SERVICE_NAME; the namespace comes from Terraform too."""
    module = TERRAFORM / "modules" / "projector"

    def environment(path: Path, variable: str) -> list[str]:
        return re.findall(rf'^\s*{variable}\s*=\s*"([^"]+)"', path.read_text(), re.MULTILINE)

    assert environment(module / "main.tf", "POWERTOOLS_SERVICE_NAME") == [METRICS["projector"]["service"]]
    assert environment(module / "purge.tf", "POWERTOOLS_SERVICE_NAME") == [METRICS["purge"]["service"]]
    for path in (module / "main.tf", module / "purge.tf"):
        assert environment(path, "POWERTOOLS_METRICS_NAMESPACE") == [METRICS["namespace"]], path.name


def test_the_dashboard_takes_its_custom_names_from_the_definitions_file() -> None:
    """No metric name of the projector is spelled out in dashboard.tf, where this test could not see it."""
    source = (TERRAFORM / "dashboard.tf").read_text()
    assert 'file("${path.module}/definitions/metrics.json")' in source
    spelled = {name for name in projector_emits() | purge_emits() if f'"{name}"' in source}
    assert not spelled, spelled
