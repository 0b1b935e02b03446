"""The scripts that build and measure the projector: the Lambda zip, the benchmark, the instruction count.

Each runs as a user runs it (this interpreter, from the repository root) and must exit cleanly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
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


def test_build_produces_an_importable_zip(tmp_path: Path) -> None:
    output = tmp_path / "projector.zip"
    printed = _run_script("scripts/build_projector.py", "--output", str(output), "--no-orjson", timeout=120)
    assert "MiB" in printed and output.exists()
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    assert {"projector/handler.py", "projector/mappings/listings.v1.json"} <= names
    assert "aws_lambda_powertools/__init__.py" in names and "urllib3/__init__.py" in names
    assert not any(name.startswith(("boto3/", "botocore/")) for name in names)
    unpacked = tmp_path / "unpacked"
    probe = (
        f"import sys; sys.path.insert(0, {str(unpacked)!r}); "
        "import projector.handler, aws_lambda_powertools, urllib3; "
        "print(projector.handler.__file__); print(aws_lambda_powertools.__file__); print(urllib3.__file__)"
    )
    located = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert all(line.startswith(str(unpacked)) for line in located.stdout.splitlines())


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
        "cpu_vs_straightforward_ratio_b100",
    ):  # fmt: skip
        assert isinstance(figures[key], int | float) and figures[key] > 0, key
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
