"""The scheduled tombstone purge (``projector.purge.lambda_handler``) against osmem and the fault proxy."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from support.items import listing, review
from support.lambda_context import lambda_context

from devstack.faultproxy import FaultProxy
from devstack.servers import ChildServer
from projector import purge
from projector.bulk import BulkAction, BulkWriter
from projector.documents import project_item, project_tombstone
from projector.exceptions import AliasMissingError, ConfigError, TransportError
from projector.indices import ensure_indices
from projector.transport import Transport

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set the purge's environment (no dead-letter queue: it never needs one) and drop its cache."""
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        purge.reset()

    yield apply
    purge.reset()


@pytest.fixture
def seeded(osmem: ChildServer, configure: Callable[..., None]) -> str:
    """Fresh indices holding tombstones 72 h and 1 h old, and live documents; returns the prefix."""
    prefix = f"purge-{uuid.uuid4().hex[:8]}-"
    transport = Transport(osmem.url)
    ensure_indices(transport, prefix)
    now = time.time()
    projections = [
        project_tombstone(listing("old", 3), deleted_at=now - 72 * HOUR),
        project_tombstone(listing("recent", 3), deleted_at=now - 1 * HOUR),
        project_item(listing("live", 5)),
        project_tombstone(review("live", "old-review", 2), deleted_at=now - 50 * HOUR),
        project_item(review("live", "good-review", 1)),
    ]
    actions = []
    for projection in projections:
        assert projection is not None
        index = f"{prefix}{projection.entity.index()}"
        actions.append(BulkAction(index, projection.doc_id, projection.version, projection.document))
    results = BulkWriter(transport).write(actions, deadline=time.monotonic() + 30).items
    assert all(result.status in (200, 201) for result in results), results
    configure(OPENSEARCH_ENDPOINT=osmem.url, OPENSEARCH_AUTH="none", INDEX_PREFIX=prefix)
    return prefix


def _get(osmem: ChildServer, index: str, doc_id: str) -> dict[str, Any] | None:
    answer = Transport(osmem.url).request("GET", f"/{index}/_doc/{doc_id}")
    body: dict[str, Any] = json.loads(answer.body)
    return body if answer.status == 200 and body.get("found") else None


def _emf(output: str) -> list[dict[str, Any]]:
    """The EMF metric blobs Powertools printed (a metric's values, a list or a number, as a number)."""
    blobs = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            names = [m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
            for name in names:
                value = blob[name]
                blob[name] = sum(value) if isinstance(value, list) else value
            blobs.append(blob)
    return blobs


def test_purges_old_tombstones_and_keeps_recent_ones_and_live_documents(
    seeded: str, osmem: ChildServer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = purge.lambda_handler({"source": "aws.events"}, lambda_context())

    listings, reviews = f"{seeded}listings-v1", f"{seeded}reviews-v1"
    assert result == {"deleted": {listings: 1, reviews: 1}, "total": 2, "retention_hours": 48.0}
    assert _get(osmem, listings, "old") is None
    assert _get(osmem, reviews, "live.old-review") is None
    recent = _get(osmem, listings, "recent")
    assert recent is not None and recent["_source"]["tombstone"] is True
    assert _get(osmem, listings, "live") is not None
    assert _get(osmem, reviews, "live.good-review") is not None

    blobs = _emf(capsys.readouterr().out)
    per_index = {
        blob["index"]: blob["tombstones_purged"]
        for blob in blobs
        if "index" in blob and "tombstones_purged" in blob
    }
    assert per_index == {listings: 1.0, reviews: 1.0}
    assert any(blob.get("tombstones_purged") == 2.0 and "index" not in blob for blob in blobs)


def test_retention_comes_from_the_projector_configuration(
    seeded: str, osmem: ChildServer, configure: Callable[..., None]
) -> None:
    configure(TOMBSTONE_RETENTION_HOURS="60")
    result = purge.lambda_handler({}, lambda_context())
    assert result["deleted"] == {f"{seeded}listings-v1": 1, f"{seeded}reviews-v1": 0}
    assert _get(osmem, f"{seeded}reviews-v1", "live.old-review") is not None  # 50 h old: kept under 60 h

    configure(TOMBSTONE_RETENTION_HOURS="12")
    with pytest.raises(ConfigError, match="TOMBSTONE_RETENTION_HOURS must be more than the 24 h"):
        purge.lambda_handler({}, lambda_context())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_opensearch_raises_a_transport_error(
    configure: Callable[..., None], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure(OPENSEARCH_ENDPOINT=f"http://127.0.0.1:{_closed_port()}", OPENSEARCH_AUTH="none")
    with pytest.raises(TransportError, match=r"/_alias/listings-write") as caught:
        purge.lambda_handler({}, lambda_context())
    assert "refused" in str(caught.value).lower()
    failed = [record for record in caplog.records if record.getMessage() == "tombstone purge failed"]
    assert len(failed) == 1 and failed[0].levelname == "ERROR" and failed[0].exc_info is not None
    assert any(blob.get("tombstone_purge_failed") == 1.0 for blob in _emf(capsys.readouterr().out))


def test_a_refused_delete_by_query_raises_and_leaves_the_tombstones(
    seeded: str, osmem: ChildServer, configure: Callable[..., None]
) -> None:
    with FaultProxy(osmem.url, seed=3) as proxy:
        proxy.set(match="/_delete_by_query")
        proxy.script("500")
        configure(OPENSEARCH_ENDPOINT=proxy.url)
        with pytest.raises(TransportError, match=r"purge .*listings-v1: HTTP 500"):
            purge.lambda_handler({}, lambda_context())
        assert proxy.stats["status_500"] == 1
    assert _get(osmem, f"{seeded}listings-v1", "old") is not None


class _PartialPurge(BaseHTTPRequestHandler):
    """OpenSearch's documented answer to a delete-by-query that hit shard failures or its timeout: a 200
    whose body says so (osmem never produces one)."""

    answer: ClassVar[dict[str, Any]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:  # GET /_alias/<alias>
        alias = self.path.rsplit("/", 1)[1]
        self._send({alias.replace("-write", "-v1"): {"aliases": {alias: {}}}})

    def do_POST(self) -> None:  # POST /<index>/_delete_by_query
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(type(self).answer)

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"deleted": 3, "timed_out": False, "failures": [{"index": "listings-v1", "status": 429}]},
            r"purge listings-v1: deleted 3, then failed: .*429",
        ),
        (
            {"deleted": 1, "timed_out": True, "failures": []},
            r"purge listings-v1: deleted 1, then failed: .*timed_out",
        ),
    ],
)
def test_a_delete_by_query_that_reports_failures_raises(
    configure: Callable[..., None], answer: dict[str, Any], expected: str
) -> None:
    _PartialPurge.answer = answer
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PartialPurge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        configure(OPENSEARCH_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}", OPENSEARCH_AUTH="none")
        with pytest.raises(TransportError, match=expected):
            purge.lambda_handler({}, lambda_context())
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_write_alias_fails_instead_of_purging_nothing(
    seeded: str, configure: Callable[..., None]
) -> None:
    configure(INDEX_PREFIX="no-such-prefix-")
    with pytest.raises(AliasMissingError, match="no-such-prefix-listings-write"):
        purge.lambda_handler({}, lambda_context())


def test_importing_the_library_still_loads_no_powertools() -> None:
    code = "import sys, projector, projector.purge; print('aws_lambda_powertools' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
