"""web/scripts/config.mjs: one config.json shape from a Terraform deployment's outputs or a stack file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from web_support import WEB

DEPLOYED = {
    "graphql_url": "https://abc123.appsync-api.eu-west-1.amazonaws.com/graphql",
    "region": "eu-west-1",
    "auth": {
        "api_key": None,
        "user_pool_id": "eu-west-1_AbCdEfGhI",
        "user_pool_client_id": "1example23456789",
        "iam": True,
    },
    "table_name": "listings",
    "search_endpoint": "https://search-listings.eu-west-1.es.amazonaws.com",
}


def config_script(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "scripts/config.mjs", *args],
        cwd=WEB,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


def terraform_output(values: dict[str, Any]) -> str:
    """What `terraform output -json` prints: every output wrapped with its type and sensitivity."""
    return json.dumps(
        {key: {"sensitive": False, "type": "string", "value": value} for key, value in values.items()}
    )


def test_terraform_outputs_give_a_cognito_config(tmp_path: Path) -> None:
    out = tmp_path / "config.json"
    proc = config_script("--stack", "-", "--out", str(out), stdin=terraform_output(DEPLOYED))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {
        "graphql_url": DEPLOYED["graphql_url"],
        "region": "eu-west-1",
        "auth": DEPLOYED["auth"],
    }
    assert "Cognito" in proc.stdout


def test_a_stack_file_gives_the_same_shape(tmp_path: Path) -> None:
    stack = tmp_path / "stack.json"
    stack.write_text(json.dumps(DEPLOYED))
    out = tmp_path / "config.json"
    assert config_script("--stack", str(stack), "--out", str(out)).returncode == 0
    assert json.loads(out.read_text())["auth"]["user_pool_id"] == "eu-west-1_AbCdEfGhI"


def test_missing_keys_fail_by_name_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "config.json"
    proc = config_script("--stack", "-", "--out", str(out), stdin=json.dumps({"region": "eu-west-1"}))
    assert proc.returncode == 1
    assert "lacks graphql_url or region" in proc.stderr
    assert not out.exists()


def test_no_way_to_sign_in_is_an_error(tmp_path: Path) -> None:
    stack = {**DEPLOYED, "auth": {"api_key": "da2-x", "user_pool_id": None, "user_pool_client_id": None}}
    out = tmp_path / "config.json"
    proc = config_script("--stack", "-", "--out", str(out), stdin=json.dumps(stack))
    assert proc.returncode == 1
    assert "no token_command and no Cognito user pool" in proc.stderr
    assert not out.exists()


def test_unreadable_and_malformed_sources(tmp_path: Path) -> None:
    missing = config_script("--stack", str(tmp_path / "nope.json"), "--out", str(tmp_path / "c.json"))
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr and "ENOENT" in missing.stderr
    garbled = config_script("--stack", "-", "--out", str(tmp_path / "c.json"), stdin="{not json")
    assert garbled.returncode == 1
    assert "is not JSON" in garbled.stderr


def test_terraform_dir_is_read_with_terraform_output(tmp_path: Path) -> None:
    """`--terraform DIR` runs the real `terraform output -json` (a root module of outputs only)."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH (CI requires Terraform 1.11)")
    root = tmp_path / "root"
    root.mkdir()
    outputs = "\n".join(
        f"output {json.dumps(key)} {{ value = {hcl(value)} }}" for key, value in DEPLOYED.items()
    )
    (root / "outputs.tf").write_text(outputs + "\n")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    for command in (["init", "-input=false"], ["apply", "-input=false", "-auto-approve"]):
        done = subprocess.run(["terraform", *command], cwd=root, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    out = tmp_path / "config.json"
    proc = config_script("--terraform", str(root), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["auth"] == DEPLOYED["auth"]


def hcl(value: Any) -> str:
    """A JSON value as an HCL expression (objects need `=`; null, strings, bools and numbers match)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {hcl(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)
