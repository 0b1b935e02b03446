"""The committed locks cover pyproject.toml's pins and the Lambda's target (offline: files only)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ops.locks import (
    DEV_LOCK,
    LAMBDA_INPUT,
    LAMBDA_LOCK,
    PYPROJECT,
    RUNTIME_DEFINITION,
    check_locks,
    parse_lock,
    pyproject_pins,
    read_lock,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_locks_are_current() -> None:
    assert check_locks() == []
    dependencies, dev = pyproject_pins()
    dev_lock, lambda_lock = read_lock(DEV_LOCK), read_lock(LAMBDA_LOCK)
    # The same facts, spelled out: every pin is in the dev lock, every bundled one in the Lambda's.
    for name, version in {**dependencies, **dev}.items():
        assert [pin.version for pin in dev_lock[name]] == [version], name
    assert {name: pins[0].version for name, pins in lambda_lock.items()} == {
        name: dev_lock[name][0].version for name in lambda_lock
    }
    assert {"orjson", "aws-lambda-powertools", "urllib3"} <= set(lambda_lock)
    assert not {"boto3", "botocore", "s3transfer"} & set(lambda_lock)
    # urllib3 ships with the projector: the version botocore is tested with in the dev environment.
    assert lambda_lock["urllib3"][0].version == dev_lock["urllib3"][0].version
    assert all(pin.hashes for pins in [*dev_lock.values(), *lambda_lock.values()] for pin in pins)


@pytest.fixture
def copies(tmp_path: Path) -> dict[str, Path]:
    """The lock inputs and outputs, copied so a test can break one of them."""
    paths = {"pyproject": PYPROJECT, "dev_lock": DEV_LOCK, "lambda_lock": LAMBDA_LOCK,
             "lambda_input": LAMBDA_INPUT, "runtime_definition": RUNTIME_DEFINITION}  # fmt: skip
    copied = {}
    for key, path in paths.items():
        copied[key] = tmp_path / path.name
        shutil.copy(path, copied[key])
    return copied


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_changed_or_new_pin_makes_the_locks_stale(copies: dict[str, Path]) -> None:
    edit(copies["pyproject"], '"orjson==3.13.0"', '"orjson==3.12.0"')
    edit(copies["pyproject"], '"pytest==', '"tomli-w==1.0.0",\n    "pytest==')
    problems = "\n".join(check_locks(**copies))
    assert "dev.txt pins orjson to 3.13.0, pyproject.toml to 3.12.0: run `make lock`" in problems
    assert "dev.txt pins tomli-w to nothing, pyproject.toml to 1.0.0" in problems
    assert "lambda.txt pins orjson to 3.13.0, pyproject.toml to 3.12.0" in problems


def test_a_lambda_lock_that_drifts_from_its_target_or_the_dev_lock_is_stale(copies: dict[str, Path]) -> None:
    definition = json.loads(copies["runtime_definition"].read_text())
    definition["architecture"] = "x86_64" if definition["architecture"] == "arm64" else "arm64"
    copies["runtime_definition"].write_text(json.dumps(definition))
    edit(copies["lambda_lock"], "urllib3==", "urllib3==1.")
    edit(copies["lambda_input"], "orjson\n", "")
    problems = "\n".join(check_locks(**copies))
    assert "lambda.txt was resolved for --python-platform" in problems
    assert "lambda.txt ships urllib3 1." in problems and "but the dev environment tests" in problems
    assert "requirements/lambda.in lacks orjson" in problems


def test_the_runtimes_own_sdk_is_never_bundled(copies: dict[str, Path]) -> None:
    boto3 = "".join(pin.requirement() for pin in read_lock(DEV_LOCK)["boto3"])
    copies["lambda_lock"].write_text(copies["lambda_lock"].read_text() + boto3)
    assert any("bundles boto3, which the Lambda runtime provides" in p for p in check_locks(**copies))


def test_a_universal_lock_may_pin_one_project_per_python_range() -> None:
    text = (
        "networkx==3.6.1 ; python_full_version < '3.12' \\\n    --hash=sha256:" + "a" * 64 + "\n"
        "    # via sympy\n"
        "networkx==3.7 ; python_full_version >= '3.12' \\\n    --hash=sha256:" + "b" * 64 + " \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
        "Typing_Extensions==4.16.0 \\\n    --hash=sha256:" + "d" * 64 + "\n"
    )
    pins = parse_lock(text)
    assert [(p.version, p.marker, len(p.hashes)) for p in pins["networkx"]] == [
        ("3.6.1", "python_full_version < '3.12'", 1),
        ("3.7", "python_full_version >= '3.12'", 2),
    ]
    assert pins["typing-extensions"][0].version == "4.16.0"
    with pytest.raises(ValueError, match="not a hashed pin"):
        parse_lock("orjson>=3\n")


def test_make_install_takes_the_dev_lock_by_hash_and_the_project_without_dependencies() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/lock.py --check" in recipe
    assert re.search(r"pip install -q --require-hashes -r requirements/dev\.txt", recipe)
    assert "pip install -q -e . --no-deps" in recipe
    assert "'.[dev]'" not in makefile


def test_lock_check_command_and_one_pin_for_bootstrapping_uv() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/lock.py", "--check"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    pin = subprocess.run(
        [sys.executable, "scripts/lock.py", "--requirement", "uv"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert re.match(r"uv==[\d.]+ \\\n    --hash=sha256:[0-9a-f]{64}", pin)
