"""scripts/pipeline_check.py: the deploy pipeline's guards stop bad input with a clear message (exit 2)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_rules import REPO

SCRIPT = REPO / "scripts" / "pipeline_check.py"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    plan, package = tmp_path / "prod.tfplan", tmp_path / "projector.zip"
    plan.write_bytes(b"a saved plan")
    package.write_bytes(b"a lambda package")
    return {"plan": plan, "package": package, "manifest": tmp_path / "manifest.json"}


def write_manifest(files: dict[str, Path], environment: str = "prod") -> subprocess.CompletedProcess[str]:
    return check(
        "manifest", "write", files["manifest"], "--environment", environment, "--commit", COMMIT,
        "--plan", files["plan"], "--package", files["package"],
    )  # fmt: skip


def check_manifest(
    files: dict[str, Path], environment: str = "prod", commit: str = COMMIT, plan_sha256: str | None = None
) -> subprocess.CompletedProcess[str]:
    return check(
        "manifest", "check", files["manifest"], "--environment", environment, "--commit", commit,
        "--plan", files["plan"], "--package", files["package"],
        "--plan-sha256", plan_sha256 or sha256(files["plan"]),
    )  # fmt: skip


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_known_environments_pass(name: str) -> None:
    result = check("environment", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: environment {name}")


@pytest.mark.parametrize("name", ["staging", "", "prod.tfvars", "../prod"])
def test_an_unknown_environment_stops(name: str) -> None:
    result = check("environment", name)
    assert result.returncode == 2
    assert "unknown environment" in result.stderr and "dev, prod" in result.stderr


def test_an_artifact_with_the_built_hash_passes(files: dict[str, Path]) -> None:
    result = check("artifact", files["package"], "--sha256", sha256(files["package"]))
    assert result.returncode == 0, result.stderr


def test_a_missing_artifact_stops(tmp_path: Path) -> None:
    result = check("artifact", tmp_path / "projector.zip", "--sha256", "0" * 64)
    assert result.returncode == 2
    assert "artifact missing" in result.stderr


def test_a_changed_artifact_stops(files: dict[str, Path]) -> None:
    expected = sha256(files["package"])
    files["package"].write_bytes(b"rebuilt")
    result = check("artifact", files["package"], "--sha256", expected)
    assert result.returncode == 2
    assert "artifact mismatch" in result.stderr


def test_an_empty_expected_hash_stops(files: dict[str, Path]) -> None:
    # A job output that was never set arrives as an empty string: that is not "any hash goes".
    result = check("artifact", files["package"], "--sha256", "")
    assert result.returncode == 2
    assert "64-character" in result.stderr


def test_the_reviewed_plan_passes(files: dict[str, Path]) -> None:
    assert write_manifest(files).returncode == 0
    manifest = json.loads(files["manifest"].read_text())
    assert manifest == {
        "environment": "prod",
        "commit": COMMIT,
        "plan_sha256": sha256(files["plan"]),
        "package_sha256": sha256(files["package"]),
    }
    result = check_manifest(files)
    assert result.returncode == 0, result.stderr
    assert "is the reviewed one" in result.stdout


def test_a_plan_for_another_environment_stops(files: dict[str, Path]) -> None:
    assert write_manifest(files, environment="dev").returncode == 0
    result = check_manifest(files, environment="prod")
    assert result.returncode == 2
    assert "the plan is for 'dev'" in result.stderr and "nothing applied" in result.stderr


def test_a_plan_from_another_commit_stops(files: dict[str, Path]) -> None:
    assert write_manifest(files).returncode == 0
    result = check_manifest(files, commit="f" * 40)
    assert result.returncode == 2
    assert "made at commit" in result.stderr


def test_a_swapped_plan_file_stops(files: dict[str, Path]) -> None:
    assert write_manifest(files).returncode == 0
    reported = sha256(files["plan"])
    files["plan"].write_bytes(b"another plan")
    result = check_manifest(files, plan_sha256=reported)
    assert result.returncode == 2
    assert "is not the plan file the plan job produced" in result.stderr


def test_a_rebuilt_package_stops(files: dict[str, Path]) -> None:
    assert write_manifest(files).returncode == 0
    files["package"].write_bytes(b"rebuilt package")
    result = check_manifest(files)
    assert result.returncode == 2
    assert "is not the Lambda package the plan was made with" in result.stderr


def test_a_missing_manifest_stops(files: dict[str, Path]) -> None:
    result = check_manifest(files)
    assert result.returncode == 2
    assert "plan manifest missing" in result.stderr


def test_a_tampered_manifest_stops(files: dict[str, Path]) -> None:
    assert write_manifest(files).returncode == 0
    manifest = json.loads(files["manifest"].read_text())
    files["manifest"].write_text(json.dumps({**manifest, "extra": 1}))
    result = check_manifest(files)
    assert result.returncode == 2
    assert "must hold exactly" in result.stderr
