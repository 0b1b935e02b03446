"""Run Terraform offline for the tests (helpers; the fixtures are in conftest.py).

Every call gets a CLI config that installs hashicorp/aws from the local provider mirror, and each working
directory gets its own data dir. At most two Terraform processes run at once (the machine has two cores).
Why a thin subprocess wrapper rather than python-terraform or tftest: see terraform/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
CLI_CONFIG_TEMPLATE = TERRAFORM_DIR / "cli.tfrc.example"
# Every Terraform configuration: the root stack, each module, and the bootstrap (state bucket, OIDC, roles).
CONFIGS = {
    "root": TERRAFORM_DIR,
    **{name: TERRAFORM_DIR / "modules" / name for name in ("table", "search", "projector", "api")},
    "bootstrap": TERRAFORM_DIR / "bootstrap",
}
PARALLEL = 2

RUN_BLOCK = re.compile(r'^run "(?P<name>[^"]+)"', re.MULTILINE)
RUN_LINE = re.compile(r'^\s*run "(?P<name>[^"]+)"\.\.\. (?P<status>pass|fail|skip)', re.MULTILINE)
SUMMARY = re.compile(r"(?P<passed>\d+) passed, (?P<failed>\d+) failed")

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class TfResult:
    """What one Terraform command returned and printed."""

    args: tuple[str, ...]
    returncode: int
    output: str

    def run_statuses(self) -> dict[str, str]:
        """The `run "name"... pass|fail` lines of `terraform test`, by run name."""
        return {match["name"]: match["status"] for match in RUN_LINE.finditer(self.output)}

    def summary(self) -> tuple[int, int] | None:
        """(passed, failed) from `terraform test`'s closing line."""
        match = SUMMARY.search(self.output)
        return (int(match["passed"]), int(match["failed"])) if match else None


class Terraform:
    """A thin subprocess wrapper: the offline CLI config, a data dir per call site, no prompts, no colour."""

    def __init__(self, binary: str, cli_config: Path) -> None:
        self.binary = binary
        self.cli_config = cli_config

    def env(self, data_dir: Path) -> dict[str, str]:
        return {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_DATA_DIR": str(data_dir),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }

    def run(self, workdir: Path, data_dir: Path, *args: str, timeout: float = 300) -> TfResult:
        completed = subprocess.run(
            [self.binary, f"-chdir={workdir}", *args],
            env=self.env(data_dir),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return TfResult(tuple(args), completed.returncode, completed.stdout + completed.stderr)


def run_blocks(test_file: Path) -> list[str]:
    """Names of the `run` blocks in a .tftest.hcl file, in order."""
    return [match["name"] for match in RUN_BLOCK.finditer(test_file.read_text())]


def parallel(function: Callable[[K], V], keys: Iterable[K]) -> dict[K, V]:
    """`{key: function(key)}`, computed two at a time."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {key: pool.submit(function, key) for key in keys}
        return {key: future.result() for key, future in futures.items()}


def write_cli_config(mirror: Path, destination: Path) -> Path:
    """terraform/cli.tfrc.example with the mirror root filled in."""
    destination.write_text(CLI_CONFIG_TEMPLATE.read_text().replace("@MIRROR@", str(mirror)))
    return destination


def find_mirror() -> Path:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "tf_mirror.py")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"no Terraform provider mirror: {result.stderr.strip()}")
    return Path(result.stdout.strip())


def make_lambda_zip(path: Path) -> Path:
    """A minimal but real Lambda package: Terraform hashes it, moto stores it, nothing invokes it."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("projector/__init__.py", "")
        archive.writestr("projector/handler.py", "def lambda_handler(event, context):\n    return {}\n")
    return path
