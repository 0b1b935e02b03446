"""Fixtures for the Terraform suites: the offline Terraform runner and a Lambda package to deploy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tfkit import Terraform, find_mirror, make_lambda_zip, write_cli_config


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail("terraform is not on PATH (Terraform 1.11 is expected; .ci/run checks it)")
    config = write_cli_config(find_mirror(), tmp_path_factory.mktemp("tfcli") / "terraform.tfrc")
    return Terraform(binary, config)


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_lambda_zip(tmp_path_factory.mktemp("lambda") / "projector.zip")
