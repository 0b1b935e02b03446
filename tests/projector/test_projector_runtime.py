"""Configuration, cold start, SigV4, indices/purge commands and the benchmark script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from projector_testkit import Env, FakeContext, listing

from devstack.servers import LOCAL_AWS_ENV, ChildServer
from projector import handler
from projector.config import Config
from projector.exceptions import ConfigError
from projector.indices import READ_FILTER, ensure_indices
from projector.purge import purge_tombstones
from projector.transport import Transport

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/1/q"}


def test_config_defaults() -> None:
    config = Config.from_env({**GOOD, "OPENSEARCH_AUTH": "none"})
    assert config.bulk_max_bytes == 5 * 1024 * 1024 and config.bulk_max_actions == 1000
    assert config.tombstone_retention_hours == 48 and config.log_item_contents is False


def test_config_errors_name_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(
            {
                "OPENSEARCH_ENDPOINT": "search.example.com",
                "OPENSEARCH_AUTH": "basic",
                "BULK_MAX_BYTES": "ten",
                "BULK_MAX_ACTIONS": "0",
                "TOMBSTONE_RETENTION_HOURS": "12",
                "LOG_ITEM_CONTENTS": "maybe",
            }
        )
    problems = caught.value.problems
    text = str(caught.value)
    assert len(problems) == 7, problems
    for expected in (
        "OPENSEARCH_ENDPOINT must be an http(s) URL",
        "DEAD_LETTER_QUEUE_URL is required",
        "OPENSEARCH_AUTH must be one of sigv4, sigv4-aoss, none",
        "BULK_MAX_BYTES must be an integer",
        "BULK_MAX_ACTIONS must be between 1 and 10000",
        "TOMBSTONE_RETENTION_HOURS must be more than the 24 h stream retention",
        "LOG_ITEM_CONTENTS must be true or false",
    ):
        assert expected in text


def test_the_handler_holds_no_record_once_it_returns(env: Env) -> None:
    """Lambda frees an event when the handler returns; a batch kept until the next one would double
    the memory held while the runtime parses that next event."""
    env.table.put(listing("one", 1))
    env.table.put(listing("two", 1))
    env.table.delete("LISTING#one", "LISTING")
    records = env.table.read()
    before = [sys.getrefcount(record) for record in records]
    assert env.invoke(records) == {"batchItemFailures": []}
    assert [sys.getrefcount(record) for record in records] == before


def test_sigv4_needs_a_region() -> None:
    with pytest.raises(ConfigError, match="needs AWS_REGION"):
        Config.from_env({**GOOD, "OPENSEARCH_AUTH": "sigv4"})


def test_bad_configuration_fails_the_first_invocation_clearly(configure: Callable[..., None]) -> None:
    configure(OPENSEARCH_ENDPOINT="", DEAD_LETTER_QUEUE_URL="")
    with pytest.raises(ConfigError, match="OPENSEARCH_ENDPOINT is required"):
        handler.lambda_handler({"Records": []}, FakeContext())


def test_cold_start_in_a_fresh_process(env: Env) -> None:
    """Import with no configuration, then set it and invoke: config is read lazily, on the first call."""
    env.table.put(listing("cold", 3))
    records = env.table.read()
    code = (
        "import json, os, sys\n"
        "import projector.handler as h\n"
        "os.environ.update(json.loads(sys.argv[1]))\n"
        "class C:\n"
        "    function_name = 'cold'; aws_request_id = 'r1'\n"
        "    def get_remaining_time_in_millis(self): return 30000\n"
        "print('RESULT', json.dumps(h.lambda_handler({'Records': json.loads(sys.argv[2])}, C())))\n"
    )
    variables = {
        "OPENSEARCH_ENDPOINT": env.osmem_url,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_QUEUE_URL": env.queue_url,
        "INDEX_PREFIX": env.prefix,
    }
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("OPENSEARCH_", "DEAD_"))}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(variables), json.dumps(records)],
        capture_output=True, text=True, cwd=ROOT, env=clean, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert json.loads(result[0][7:]) == {"batchItemFailures": []}
    assert env.search.ids() == ["cold"]


class _Capture(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET


@pytest.fixture
def capture() -> Iterator[str]:
    _Capture.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("auth", "service"), [("sigv4", "es"), ("sigv4-aoss", "aoss")])
def test_sigv4_signs_with_the_right_service(capture: str, auth: str, service: str) -> None:
    transport = Transport(capture, auth=auth, region="eu-west-1")
    assert transport.request("POST", "/_bulk", b'{"index":{}}\n{}\n').status == 200
    (headers,) = _Capture.seen
    authorization = headers["Authorization"]
    key = LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={key}/")
    assert f"/eu-west-1/{service}/aws4_request" in authorization
    assert "x-amz-content-sha256" in authorization.lower()
    assert headers["X-Amz-Security-Token"] == LOCAL_AWS_ENV["AWS_SESSION_TOKEN"]


def test_no_auth_sends_no_signature(capture: str) -> None:
    Transport(capture).request("GET", "/")
    assert "Authorization" not in _Capture.seen[0]


def test_indices_command_is_idempotent(osmem: ChildServer) -> None:
    command = [
        sys.executable,
        "-m",
        "projector.indices",
        "--endpoint",
        osmem.url,
        "--auth",
        "none",
        "-p",
        "cli-",
    ]
    first = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True, timeout=60)
    second = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True, timeout=60)
    assert "created cli-listings-v1" in json.loads(first.stdout)["Listing"]
    assert json.loads(second.stdout) == {
        "Listing": ["updated mapping of cli-listings-v1"],
        "Review": ["updated mapping of cli-reviews-v1"],
    }
    bad = subprocess.run(
        [sys.executable, "-m", "projector.indices", "--endpoint", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "ConfigError" in bad.stderr


def test_indices_command_leaves_an_entity_alone_once_a_reindex_moved_its_read_alias(
    osmem: ChildServer,
) -> None:
    transport = Transport(osmem.url)
    ensure_indices(transport, "moved-")
    # What a reindex leaves behind: the aliases on a newer index and the old index retired.
    assert transport.request("PUT", "/moved-listings-v2", b"{}").status == 200
    actions = [
        {"remove_index": {"index": "moved-listings-v1"}},
        {"add": {"index": "moved-listings-v2", "alias": "moved-listings-write"}},
        {"add": {"index": "moved-listings-v2", "alias": "moved-listings", "filter": READ_FILTER}},
    ]
    body = json.dumps({"actions": actions}).encode()
    assert transport.request("POST", "/_aliases", body).status == 200

    report = ensure_indices(transport, "moved-")

    assert report["Listing"] == ["left alone: moved-listings is served by moved-listings-v2"]
    assert transport.request("HEAD", "/moved-listings-v1").status == 404
    assert report["Review"] == ["updated mapping of moved-reviews-v1"]


def test_purge_removes_only_old_tombstones(env: Env) -> None:
    env.table.put(listing("old", 1))
    env.table.put(listing("new", 1))
    env.table.put(listing("live", 1))
    env.table.delete("LISTING#old", "LISTING")
    env.table.delete("LISTING#new", "LISTING")
    records = env.table.read()
    records[3]["dynamodb"]["ApproximateCreationDateTime"] -= 72 * 3600  # deleted three days ago
    assert env.invoke(records) == {"batchItemFailures": []}
    transport = Transport(env.osmem_url)
    with pytest.raises(ValueError):
        purge_tombstones(transport, retention_hours=12, prefix=env.prefix)
    assert purge_tombstones(transport, retention_hours=48, prefix=env.prefix) == {
        f"{env.prefix}listings-v1": 1,
        f"{env.prefix}reviews-v1": 0,
    }
    assert env.search.get("old") is None
    new = env.search.get("new")
    assert new is not None and new["_source"]["tombstone"] is True
    assert env.search.get("live") is not None


def _run_script(*arguments: str, timeout: float) -> str:
    """Run a script of scripts/ with this interpreter; its standard output, once it exited cleanly."""
    done = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_script_runs_and_prints_its_figures() -> None:
    printed = _run_script(
        "scripts/bench_projector.py", "--records", "200", "--b100-records", "200",
        "--naive-records", "50", "--rss-batches", "1", "--rounds", "1", timeout=180,
    )  # fmt: skip
    figures = json.loads(printed.strip().splitlines()[-1])
    for key in (
        "records_per_s", "ceiling_records_per_s", "ratio_vs_ceiling", "naive_records_per_s",
        "ratio_vs_naive", "client_cpu_ms_per_1k", "client_cpu_ms_per_1k_b100", "cpu_path_vs_json_ratio",
        "import_ms", "peak_rss_mb", "straightforward_cpu_ms_per_1k", "cpu_vs_straightforward_ratio",
    ):  # fmt: skip
        assert isinstance(figures[key], int | float) and figures[key] > 0, key
    assert figures["failed_records"] == 0 and figures["straightforward_failed_items"] == 0


def test_instruction_count_stub_answers_every_request_the_handler_makes() -> None:
    # The inner run exits non-zero on any failed record: a stub answer that does not match the handler's
    # request (item count, alias) fails its records, or stalls them in retries past the timeout.
    _run_script("scripts/count_instructions.py", "--inner", "50", "2", "2", timeout=120)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_count_script_prints_a_figure_per_batch_size() -> None:
    printed = _run_script("scripts/count_instructions.py", "--sizes", "50", "--batches", "1", timeout=600)
    figures = json.loads(printed.strip().splitlines()[-1])
    assert 10_000 < figures["instructions_per_record_b50"] < 1_000_000, figures


def test_tracer_only_inside_lambda_and_not_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert handler._tracer() is None
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "projector")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert handler._tracer() is None
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    # X-Ray is AWS: stand in for the Tracer so the test process's boto3 is not patched for tracing.
    import aws_lambda_powertools

    monkeypatch.setattr(aws_lambda_powertools, "Tracer", lambda service: ("tracer", service))
    assert handler._tracer() == ("tracer", "projector")  # aws-xray-sdk is installed in the dev environment
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)  # as in the Lambda runtime without a layer
    assert handler._tracer() is None
