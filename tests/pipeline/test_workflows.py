"""The GitHub workflows: valid against GitHub's workflow schema, zizmor-clean, and structurally safe.

Structural rules live in workflow_rules.py; each runs on the real workflow (no problems) and on a copy
broken the way the rule exists to catch (at least one problem), so no rule passes vacuously.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from workflow_rules import (
    APPLY_ROLE,
    DEPLOY,
    PULL_REQUEST,
    REPO,
    WORKFLOWS,
    Rule,
    Workflow,
    actions_are_pinned,
    applies_are_serialised,
    deploy_roles,
    id_token_only_where_needed,
    load,
    ordering,
    pull_requests_never_hold_apply_rights,
    reviewed_plan_is_applied,
    steps,
    uses,
)

BIN = Path(sys.executable).parent
DEPENDABOT = WORKFLOWS.parent / "dependabot.yml"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))


def check_jsonschema(
    *paths: Path, schema: str = "vendor.github-workflows"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    # --offline: no GitHub API (pins are judged as written); the pedantic persona reports code smells too.
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona=pedantic", "--no-progress", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


# ---------------------------------------------------------------------------------------------------------
# Schema and zizmor
# ---------------------------------------------------------------------------------------------------------
def test_the_workflows_exist() -> None:
    assert [path.name for path in WORKFLOW_FILES] == ["deploy.yml", "pull-request.yml"]


def test_workflows_match_githubs_schema() -> None:
    result = check_jsonschema(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = load(DEPLOY)
    broken["jobs"]["build"]["runs-on"] = {"unknown": "shape"}
    broken["jobs"]["build"]["timeout-minutes"] = "soon"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))

    result = check_jsonschema(path)

    assert result.returncode != 0
    assert "timeout-minutes" in result.stdout + result.stderr


def test_dependabot_config_matches_its_schema() -> None:
    result = check_jsonschema(DEPENDABOT, schema="vendor.dependabot")
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    # .github: the workflows and the Dependabot config (zizmor audits its update cooldown too).
    result = zizmor(WORKFLOWS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    assert "/.github/dependabot.yml" in result.stderr


def test_zizmor_flags_an_unpinned_action_and_an_injection(tmp_path: Path) -> None:
    text = DEPLOY.read_text()
    text = text.replace(
        "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2", "actions/checkout@v6", 1
    )
    text = text.replace(
        'run: python3 scripts/pipeline_check.py environment "$ENVIRONMENT"',
        "run: echo ${{ github.event.head_commit.message }}",
        1,
    )
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "deploy.yml").write_text(text)

    result = zizmor(tmp_path)

    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout
    assert "template-injection" in result.stdout


# ---------------------------------------------------------------------------------------------------------
# Structure: the real workflows hold every rule
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "rule"),
    [
        (PULL_REQUEST, pull_requests_never_hold_apply_rights),
        (PULL_REQUEST, id_token_only_where_needed),
        (DEPLOY, deploy_roles),
        (DEPLOY, id_token_only_where_needed),
        (DEPLOY, applies_are_serialised),
        (DEPLOY, ordering),
        (DEPLOY, reviewed_plan_is_applied),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else getattr(value, "__name__", str(value)),
)
def test_rule_holds(path: Path, rule: Rule) -> None:
    assert rule(load(path)) == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_actions_are_pinned_by_commit(path: Path) -> None:
    text = path.read_text()
    assert "uses:" in text
    assert actions_are_pinned(text) == []


# ---------------------------------------------------------------------------------------------------------
# Structure: each rule catches what it is for
# ---------------------------------------------------------------------------------------------------------
def step_of(workflow: Workflow, job: str, action: str) -> dict[str, object]:
    found: dict[str, object] = next(step for step in steps(workflow["jobs"][job]) if uses(step, action))
    return found


def pr_plan_in_environment(workflow: Workflow) -> None:
    workflow["jobs"]["plan"]["environment"] = "prod"


def pr_plan_with_apply_role(workflow: Workflow) -> None:
    step_of(workflow, "plan", "aws-actions/")["with"] = {"role-to-assume": APPLY_ROLE, "aws-region": "x"}


def pr_on_pull_request_target(workflow: Workflow) -> None:
    workflow["on"] = {"pull_request_target": {"branches": ["main"]}}


def pr_applies(workflow: Workflow) -> None:
    workflow["jobs"]["plan"]["steps"].append({"run": "terraform -chdir=terraform apply -auto-approve"})


def pr_plan_takes_the_lock(workflow: Workflow) -> None:
    for step in steps(workflow["jobs"]["plan"]):
        if "run" in step:
            step["run"] = str(step["run"]).replace("-lock=false", "")


def checks_get_a_token(workflow: Workflow) -> None:
    workflow["jobs"]["checks"]["permissions"]["id-token"] = "write"


def default_permissions(workflow: Workflow) -> None:
    workflow["permissions"] = {"contents": "write"}


def plan_prod_with_apply_role(workflow: Workflow) -> None:
    step_of(workflow, "plan-prod", "aws-actions/")["with"] = {"role-to-assume": APPLY_ROLE, "aws-region": "x"}


def apply_prod_without_environment(workflow: Workflow) -> None:
    del workflow["jobs"]["apply-prod"]["environment"]


def deploy_on_any_branch(workflow: Workflow) -> None:
    workflow["on"] = {"push": {}}


def build_gets_a_token(workflow: Workflow) -> None:
    workflow["jobs"]["build"]["permissions"]["id-token"] = "write"


def prod_apply_cancellable(workflow: Workflow) -> None:
    workflow["jobs"]["apply-prod"]["concurrency"]["cancel-in-progress"] = True


def dev_apply_unserialised(workflow: Workflow) -> None:
    del workflow["jobs"]["dev"]["concurrency"]


def prod_before_dev(workflow: Workflow) -> None:
    workflow["jobs"]["plan-prod"]["needs"] = ["build"]


def manifest_checked_after_credentials(workflow: Workflow) -> None:
    job = workflow["jobs"]["apply-prod"]
    guard = next(step for step in steps(job) if "manifest check" in str(step.get("run", "")))
    job["steps"].remove(guard)
    job["steps"].append(guard)


def no_smoke_test(workflow: Workflow) -> None:
    job = workflow["jobs"]["dev"]
    job["steps"] = [step for step in steps(job) if "smoke.py" not in str(step.get("run", ""))]


def long_plan_retention(workflow: Workflow) -> None:
    step_of(workflow, "plan-prod", "actions/upload-artifact@")["with"]["retention-days"] = 30  # type: ignore[index]


def apply_another_file(workflow: Workflow) -> None:
    for step in steps(workflow["jobs"]["apply-prod"]):
        if " apply " in str(step.get("run", "")):
            step["run"] = "terraform -chdir=terraform apply -input=false ../plan/other.tfplan"


def apply_plans_again(workflow: Workflow) -> None:
    workflow["jobs"]["apply-prod"]["steps"].insert(
        -1, {"run": "terraform -chdir=terraform plan -out=../plan/prod.tfplan"}
    )


def download_elsewhere(workflow: Workflow) -> None:
    for step in steps(workflow["jobs"]["apply-prod"]):
        if uses(step, "actions/download-artifact@") and step["with"]["name"] == "prod-plan":
            step["with"]["path"] = "elsewhere"


BREAKAGES: list[tuple[Path, Rule, Callable[[Workflow], None]]] = [
    (PULL_REQUEST, pull_requests_never_hold_apply_rights, pr_plan_in_environment),
    (PULL_REQUEST, pull_requests_never_hold_apply_rights, pr_plan_with_apply_role),
    (PULL_REQUEST, pull_requests_never_hold_apply_rights, pr_on_pull_request_target),
    (PULL_REQUEST, pull_requests_never_hold_apply_rights, pr_applies),
    (PULL_REQUEST, pull_requests_never_hold_apply_rights, pr_plan_takes_the_lock),
    (PULL_REQUEST, id_token_only_where_needed, checks_get_a_token),
    (DEPLOY, id_token_only_where_needed, default_permissions),
    (DEPLOY, id_token_only_where_needed, build_gets_a_token),
    (DEPLOY, deploy_roles, plan_prod_with_apply_role),
    (DEPLOY, deploy_roles, apply_prod_without_environment),
    (DEPLOY, deploy_roles, deploy_on_any_branch),
    (DEPLOY, applies_are_serialised, prod_apply_cancellable),
    (DEPLOY, applies_are_serialised, dev_apply_unserialised),
    (DEPLOY, ordering, prod_before_dev),
    (DEPLOY, ordering, manifest_checked_after_credentials),
    (DEPLOY, ordering, no_smoke_test),
    (DEPLOY, reviewed_plan_is_applied, long_plan_retention),
    (DEPLOY, reviewed_plan_is_applied, apply_another_file),
    (DEPLOY, reviewed_plan_is_applied, apply_plans_again),
    (DEPLOY, reviewed_plan_is_applied, download_elsewhere),
]


@pytest.mark.parametrize(
    ("path", "rule", "breakage"),
    BREAKAGES,
    ids=[f"{rule.__name__}-{breakage.__name__}" for _, rule, breakage in BREAKAGES],
)
def test_rule_catches_its_breakage(path: Path, rule: Rule, breakage: Callable[[Workflow], None]) -> None:
    workflow = copy.deepcopy(load(path))
    breakage(workflow)
    assert rule(workflow) != []


def test_pinning_rule_catches_a_tag_and_a_missing_release_comment() -> None:
    text = "steps:\n  - uses: actions/checkout@v6\n  - uses: hashicorp/setup-terraform@" + "a" * 40 + "\n"
    assert len(actions_are_pinned(text)) == 2
