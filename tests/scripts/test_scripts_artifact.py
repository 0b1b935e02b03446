"""The deployment package: built for Terraform's target, checked statically, and importable with orjson.

The builds install requirements/lambda.txt by hash from the package index (binary wheels for the target),
as the pipeline does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ops.artifact import Target, load_target, supported_tags, verify, wheel_tags

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = json.loads((ROOT / "terraform/definitions/projector_runtime.json").read_text())
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
# What the Lambda runtime puts on sys.path after the function's code (boto3 and what it needs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def build(*arguments: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "scripts/build_projector.py", *arguments],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == expect, done.stderr
    return done


@pytest.fixture(scope="module")
def target_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("target") / "projector.zip"
    printed = build("--output", str(output)).stdout
    assert f"for {DEFINITION['runtime']} on {DEFINITION['architecture']}" in printed
    return output


@pytest.fixture(scope="module")
def host_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("host") / "projector.zip"
    assert "host build: not for Lambda" in build("--host", "--output", str(output)).stdout
    return output


def elf_machines(archive: zipfile.ZipFile) -> dict[str, int]:
    """Every ELF member's e_machine, read straight from its header (64-bit little-endian expected)."""
    found = {}
    for name in archive.namelist():
        header = archive.read(name)[:20]
        if header[:4] == b"\x7fELF":
            assert header[4:6] == b"\x02\x01", f"{name} is not a 64-bit little-endian ELF file"
            found[name] = int.from_bytes(header[18:20], "little")
    return found


def test_the_target_zip_holds_the_targets_wheels_and_binaries_only(target_zip: Path) -> None:
    target = load_target()
    assert (target.runtime, target.architecture) == (DEFINITION["runtime"], DEFINITION["architecture"])
    cpython = "cp" + target.python.replace(".", "")
    with zipfile.ZipFile(target_zip) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("projector-build.json"))
        wheels = {
            name.split("/")[0]: wheel_tags(archive.read(name).decode())
            for name in names
            if name.endswith(".dist-info/WHEEL")
        }
        machines = elf_machines(archive)

    assert {"projector/handler.py", "projector/purge.py", "projector/mappings/listings.v1.json"} <= set(names)
    assert not any(name.startswith(("boto3/", "botocore/", "s3transfer/", "bin/")) for name in names)
    assert (manifest["runtime"], manifest["architecture"]) == (target.runtime, target.architecture)
    assert set(manifest["packages"]) == {"aws-lambda-powertools", "jmespath", "orjson", "typing-extensions",
                                         "urllib3"}  # fmt: skip
    assert {key.split("-")[0] for key in wheels} == {"aws_lambda_powertools", "jmespath", "orjson",
                                                     "typing_extensions", "urllib3"}  # fmt: skip
    # orjson, the one native wheel: built for the runtime's CPython on the target's machine.
    orjson_tags = next(tags for key, tags in wheels.items() if key.startswith("orjson-"))
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[target.architecture]
    assert all(tag.startswith(f"{cpython}-{cpython}-") and tag.endswith(f"_{machine}") for tag in orjson_tags)
    assert all(tags & supported_tags(target) for tags in wheels.values()), wheels
    assert any(name.startswith("orjson/") and name.endswith(".so") for name in machines)
    assert set(machines.values()) == {ELF_MACHINE[target.architecture]}, machines
    assert not [name for name in names if name.endswith((".pyd", ".dll", ".dylib"))]
    assert verify(target_zip, target) == []
    assert "fits" in build("--verify", str(target_zip)).stdout


def test_the_build_is_byte_for_byte_reproducible(target_zip: Path, tmp_path: Path) -> None:
    """Terraform's source_code_hash (filebase64sha256 of the zip) moves only when the contents do."""
    again = tmp_path / "again.zip"
    build("--output", str(again))
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(target_zip.read_bytes()).digest()
    # ...on any machine: nothing in it names where it was built (console scripts' shebangs, and RECORD
    # files hashing them, would).
    with zipfile.ZipFile(target_zip) as archive:
        names = archive.namelist()
        leaks = [name for name in names if sys.prefix.encode() in archive.read(name)]
        leaks += [name for name in names if str(ROOT).encode() in archive.read(name)]
    assert leaks == []
    assert not [name for name in names if name.endswith(("/RECORD", "/INSTALLER", "/REQUESTED"))]
    assert {info.date_time for info in zipfile.ZipFile(target_zip).infolist()} == {(2020, 1, 1, 0, 0, 0)}


def test_the_build_refuses_a_target_terraform_does_not_deploy(tmp_path: Path) -> None:
    other = "x86_64" if DEFINITION["architecture"] == "arm64" else "arm64"
    refused = build("--arch", other, "--output", str(tmp_path / "p.zip"), expect=2)
    assert f"refusing to build for architecture {other}" in refused.stderr
    assert "terraform/definitions/projector_runtime.json" in refused.stderr
    refused = build("--python", "3.9", "--output", str(tmp_path / "p.zip"), expect=2)
    assert "refusing to build for python 3.9" in refused.stderr
    assert not (tmp_path / "p.zip").exists()
    agreed = build("--arch", DEFINITION["architecture"], "--verify", str(tmp_path / "missing.zip"), expect=2)
    assert "FileNotFoundError" in agreed.stderr


def test_verify_names_every_way_a_zip_for_another_target_would_fail(host_zip: Path) -> None:
    """The host zip (this machine's CPython and machine) against a target it was not built for."""
    host = json.loads(zipfile.ZipFile(host_zip).read("projector-build.json"))
    other = Target("python3.13" if host["python"] != "3.13" else "python3.12",
                   "arm64" if host["architecture"] == "x86_64" else "x86_64", (2, 34))  # fmt: skip
    problems = verify(host_zip, other)
    text = "\n".join(problems)
    assert f"built for {host['runtime']} on {host['architecture']}" in text
    assert "orjson 3.13.0 is a wheel for" in text and f"which {other.describe()} cannot load" in text
    assert (
        f"is ELF machine {ELF_MACHINE[host['architecture']]}, not {ELF_MACHINE[other.architecture]}" in text
    )
    assert "is a native module for another CPython" in text


def test_a_host_build_imports_with_orjson_as_the_serialiser(host_zip: Path, tmp_path: Path) -> None:
    """Only the unpacked zip and the runtime's own packages on sys.path, as Lambda lays them out."""
    task = tmp_path / "task"  # Lambda's /var/task
    zipfile.ZipFile(host_zip).extractall(task)
    runtime = tmp_path / "runtime"  # Lambda's /var/runtime: boto3 and its dependencies, from this venv
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (runtime / source.name).symlink_to(source)
    probe = f"""
import json, sys
sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]
import orjson, urllib3, boto3
import projector.handler, projector.purge
from projector import bulk
print(json.dumps({{
    "orjson_serialises": bulk._dumps is orjson.dumps,
    "orjson": orjson.__file__, "urllib3": urllib3.__file__, "boto3": boto3.__file__,
    "powertools": sys.modules["aws_lambda_powertools"].__file__, "handler": projector.handler.__file__,
    "site": [p for p in sys.path if "site-packages" in p],
}}))
"""
    # -I: no PYTHONPATH, no user site; -S: not even the venv's site-packages (where orjson also is).
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["orjson_serialises"] is True
    assert found["site"] == []
    for name in ("orjson", "urllib3", "powertools", "handler"):
        assert found[name].startswith(str(task)), (name, found[name])
    assert found["boto3"].startswith(str(runtime))
