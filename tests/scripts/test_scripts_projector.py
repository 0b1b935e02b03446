"""The scripts that measure the projector: the benchmark and the instruction count.

The zip build has its own tests: test_scripts_artifact.py.

Each runs as a user runs it (this interpreter, from the repository root) and must exit cleanly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
        "cpu_vs_straightforward_ratio_b100", "request_cpu_ms_per_batch_b100",
        "straightforward_request_cpu_ms_per_batch_b100", "cpu_vs_straightforward_ratio_b100_without_requests",
    ):  # fmt: skip
        assert isinstance(figures[key], int | float) and figures[key] > 0, key
    # The request is a part of each contender's CPU per batch of 100 (per 1,000 records / 10), not all of it.
    assert figures["request_cpu_ms_per_batch_b100"] < figures["client_cpu_ms_per_1k_b100"] / 10
    plain_per_batch = figures["straightforward_cpu_ms_per_1k_b100"] / 10
    assert figures["straightforward_request_cpu_ms_per_batch_b100"] < plain_per_batch
    assert isinstance(figures["targets_missed"], list)
    assert "(target ≤ 0.5: " in printed  # each figure with a target says whether this run met it
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
