"""The whole Python tree is ruff-clean, ruff-formatted, mypy-clean (strict) and keeps its import contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# tests/ has no __init__.py and several conftest.py, so mypy checks each test directory on its own
# (one run for them all would stop at "Duplicate module named conftest") and the top-level files together.
TEST_DIRS = sorted(d.name for d in (ROOT / "tests").iterdir() if d.is_dir() and any(d.rglob("*.py")))
TOP_LEVEL_TESTS = sorted(f"tests/{f.name}" for f in (ROOT / "tests").glob("*.py"))


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["lint-imports", "--no-logo", "--no-cache"],  # the import contracts in pyproject.toml
        ["mypy"],  # the packages listed in pyproject.toml
        ["mypy", "scripts"],
        ["mypy", *TOP_LEVEL_TESTS],
        *(["mypy", f"tests/{name}"] for name in TEST_DIRS),
    ],
    ids=[
        "ruff-check",
        "ruff-format",
        "import-contracts",
        "mypy",
        "mypy-scripts",
        "mypy-tests",
        *(f"mypy-tests-{n}" for n in TEST_DIRS),
    ],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
