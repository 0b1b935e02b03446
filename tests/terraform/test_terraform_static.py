"""Offline checks of every Terraform configuration: fmt, init from the mirror, validate, `terraform test`.

`terraform test` runs once per test file (mocked AWS provider, no account), and the root's shared stack
file once per environment; each `run` block of each run becomes its own pytest test, so CI counts them
one by one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from tfkit import CONFIGS, TERRAFORM_DIR, Terraform, TfResult, parallel, run_blocks

ENVIRONMENTS = sorted(path.stem for path in (TERRAFORM_DIR / "environments").glob("*.tfvars"))


@dataclass(frozen=True)
class Suite:
    """One `terraform test` invocation: a test file of a configuration, and the environment it plans."""

    config: str
    test_file: Path
    environment: str | None = None
    """The root's environments/<environment>.tfvars passed with -var-file (root suites only)."""

    @property
    def id(self) -> str:
        suffix = f"[{self.environment}]" if self.environment else ""
        return f"{self.config}/{self.test_file.name}{suffix}"

    def args(self, lambda_zip: Path) -> list[str]:
        args = ["test", "-no-color", f"-filter=tests/{self.test_file.name}"]
        if self.environment is not None:
            args.append(f"-var-file=environments/{self.environment}.tfvars")
        if self.config == "root":
            args.append(f"-var=projector_package_file={lambda_zip}")
        if self.config == "projector":
            args.append(f"-var=package_file={lambda_zip}")
        return args


def suites(config: str, directory: Path) -> list[Suite]:
    """A module's test files run once each. The root's file named after an environment (dev.tftest.hcl)
    runs with that environment's variables only; every other root file runs once per environment."""
    found = []
    for path in sorted(directory.glob("tests/*.tftest.hcl")):
        own = path.name.removesuffix(".tftest.hcl")
        if config != "root":
            found.append(Suite(config, path))
        elif own in ENVIRONMENTS:
            found.append(Suite(config, path, own))
        else:
            found.extend(Suite(config, path, environment) for environment in ENVIRONMENTS)
    return found


# The shared fixture runs every Terraform command once; on a busy machine that outlasts pytest's 600 s.
pytestmark = pytest.mark.timeout(1200)
IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl")
SUITES = [suite for config, directory in CONFIGS.items() for suite in suites(config, directory)]
RUN_BLOCKS = [(suite, name) for suite in SUITES for name in run_blocks(suite.test_file)]


@dataclass(frozen=True)
class Checked:
    init: dict[str, TfResult]
    validate: dict[str, TfResult]
    tests: dict[str, TfResult]


@pytest.fixture(scope="session")
def checked(terraform: Terraform, lambda_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """init + validate every configuration, then run every test file; two Terraform processes at a time."""
    data = tmp_path_factory.mktemp("tfdata")

    def init_and_validate(config: str) -> tuple[TfResult, TfResult]:
        init = terraform.run(
            CONFIGS[config], data / config, "init", "-input=false", "-no-color", "-backend=false"
        )
        validate = terraform.run(CONFIGS[config], data / config, "validate", "-no-color")
        return init, validate

    prepared = parallel(init_and_validate, CONFIGS)
    tests = parallel(
        lambda suite: terraform.run(CONFIGS[suite.config], data / suite.config, *suite.args(lambda_zip)),
        SUITES,
    )
    return Checked(
        init={name: result[0] for name, result in prepared.items()},
        validate={name: result[1] for name, result in prepared.items()},
        tests={suite.id: result for suite, result in tests.items()},
    )


@pytest.mark.parametrize(
    "directory", [TERRAFORM_DIR, Path(__file__).parent / "moto_stack"], ids=["terraform", "moto_stack"]
)
def test_fmt_check_is_clean(terraform: Terraform, tmp_path: Path, directory: Path) -> None:
    result = terraform.run(directory, tmp_path, "fmt", "-check", "-recursive", "-diff", "-no-color")
    assert result.returncode == 0, f"run `terraform fmt -recursive {directory}`:\n{result.output}"


@pytest.mark.parametrize("config", list(CONFIGS))
def test_init_from_the_mirror(checked: Checked, config: str) -> None:
    result = checked.init[config]
    assert result.returncode == 0, result.output
    assert "hashicorp/aws" in result.output


@pytest.mark.parametrize("config", list(CONFIGS))
def test_validate(checked: Checked, config: str) -> None:
    result = checked.validate[config]
    assert result.returncode == 0, result.output
    assert "The configuration is valid." in result.output


def test_every_configuration_has_tests() -> None:
    assert {suite.config for suite in SUITES} == set(CONFIGS)


def test_the_stack_file_is_planned_with_every_environment() -> None:
    root = {suite.id for suite in SUITES if suite.config == "root"}
    assert ENVIRONMENTS, "no terraform/environments/*.tfvars"
    for environment in ENVIRONMENTS:
        assert f"root/stack.tftest.hcl[{environment}]" in root
    # An environment's own file runs with its own variables only.
    assert {suite.environment for suite in SUITES if suite.test_file.name == "prod.tftest.hcl"} == {"prod"}


@pytest.mark.parametrize("suite", SUITES, ids=lambda suite: suite.id)
def test_suite_summary(checked: Checked, suite: Suite) -> None:
    result = checked.tests[suite.id]
    expected = len(run_blocks(suite.test_file))
    assert result.summary() == (expected, 0), result.output
    assert result.returncode == 0, result.output


@pytest.mark.parametrize(
    ("suite", "run"), RUN_BLOCKS, ids=[f"{suite.id}::{name}" for suite, name in RUN_BLOCKS]
)
def test_run_block(checked: Checked, suite: Suite, run: str) -> None:
    statuses = checked.tests[suite.id].run_statuses()
    assert statuses.get(run) == "pass", checked.tests[suite.id].output


def test_a_broken_setting_fails_its_run(terraform: Terraform, tmp_path: Path) -> None:
    """Fault injection: the same table module with a NEW_IMAGE stream must fail, and be reported as failed."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR / "modules" / "table", copy / "modules" / "table", ignore=IGNORE)
    shutil.copytree(TERRAFORM_DIR / "definitions", copy / "definitions")
    definition = json.loads((TERRAFORM_DIR / "definitions" / "table.json").read_text())
    (copy / "definitions" / "table.json").write_text(
        json.dumps({**definition, "stream_view_type": "NEW_IMAGE"})
    )
    module = copy / "modules" / "table"
    assert terraform.run(module, tmp_path / "data", "init", "-no-color", "-backend=false").returncode == 0

    result = terraform.run(module, tmp_path / "data", "test", "-no-color")

    assert result.returncode != 0
    assert result.run_statuses()["defaults_follow_the_shared_definition_and_are_secure"] == "fail"
    assert "the projector needs a NEW_AND_OLD_IMAGES stream" in result.output
    passed, failed = result.summary() or (0, 0)
    assert failed == 1 and passed == len(run_blocks(module / "tests" / "table.tftest.hcl")) - 1
