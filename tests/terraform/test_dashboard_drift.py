"""The operations dashboard graphs the metrics the projector's code emits, under the names it emits them.

terraform/dashboard.tf builds its custom-metric graphs from terraform/definitions/metrics.json (namespace,
Powertools `service` per function, metric names); tests/dashboard.tftest.hcl checks the rendered body
against the stack's resources. This test closes the loop on the code side: every name in that file is
emitted by the function whose service it is filed under (Powertools `add_metric(name=...)` and
`single_metric(name=...)`, plus the per-outcome counters the handler emits in a loop over
`BatchResult.counts()`), and the service and namespace are what Terraform sets in the functions'
environment. A renamed metric would otherwise leave a flat, silent graph.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
METRICS = json.loads((TERRAFORM / "definitions" / "metrics.json").read_text())

# Issue 16 item 6: what an operator looks at first must be on the dashboard.
OPERATOR_FIRST = {"indexed", "stale", "poisoned", "retried", "bulk_latency", "projection_lag"} | {
    "signals_published",
    "signal_publish_failed",
}
# The projection-signal metrics are being added to the projector in parallel (the realtime work) under
# these exact names; they are not in the code on this branch yet. The lead reconciles at merge: once the
# code emits them, test_pending_names_are_not_yet_emitted fails until this set is emptied.
PENDING_SIGNAL_METRICS = {"signals_published", "signal_publish_failed"}


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


def _emits_every_count(path: Path) -> bool:
    """Whether the module emits `add_metric(name=<variable>)` in a loop over `<result>.counts().items()`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Call):
            continue
        items = node.iter.func
        if not (isinstance(items, ast.Attribute) and items.attr == "items"):
            continue
        counts = items.value
        if not (isinstance(counts, ast.Call) and getattr(counts.func, "attr", "") == "counts"):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and getattr(inner.func, "attr", "") == "add_metric":
                return True
    return False


def _counts_keys() -> set[str]:
    """The keys of the dict `BatchResult.counts()` returns (projector/stream.py)."""
    tree = ast.parse((REPO / "projector" / "stream.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "counts":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Dict):
                    return {str(k.value) for k in inner.value.keys if isinstance(k, ast.Constant)}
    raise AssertionError("projector/stream.py has no counts() returning a dict literal")


def projector_emits() -> set[str]:
    handler = REPO / "projector" / "handler.py"
    assert _emits_every_count(handler), "handler.py no longer emits BatchResult.counts() as metrics"
    return _literal_metric_names(handler) | _counts_keys()


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
    missing = dashboard_projector_names() - projector_emits() - PENDING_SIGNAL_METRICS
    assert not missing, (
        f"definitions/metrics.json names metrics the projector does not emit: {sorted(missing)}"
    )


def test_every_purge_metric_on_the_dashboard_is_emitted_by_the_purge() -> None:
    missing = set(METRICS["purge"]["counts"]) - purge_emits()
    assert not missing, f"definitions/metrics.json names metrics the purge does not emit: {sorted(missing)}"


def test_what_an_operator_looks_at_first_is_on_the_dashboard() -> None:
    assert dashboard_projector_names() >= OPERATOR_FIRST


def test_pending_names_are_not_yet_emitted() -> None:
    emitted = PENDING_SIGNAL_METRICS & projector_emits()
    assert not emitted, f"the projector now emits {sorted(emitted)}: remove them from PENDING_SIGNAL_METRICS"


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
