"""The web page's unit tests (vitest: config checks, error classification, catch-up rule), via pytest."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from web_support import WEB


def test_page_logic_unit_tests(tmp_path: Path) -> None:
    if not (WEB / "node_modules").exists():
        pytest.fail("web/node_modules is missing: run `make test` (it runs npm ci in web/)")
    report = tmp_path / "vitest.json"
    proc = subprocess.run(
        ["npx", "vitest", "run", "--reporter=json", f"--outputFile={report}"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    result = json.loads(report.read_text())
    assert result["numFailedTests"] == 0
    assert result["numPassedTests"] >= 12
