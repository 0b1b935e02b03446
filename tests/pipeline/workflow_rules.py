"""The pipeline's structural rules, as functions that list what a workflow breaks (empty: it holds).

test_workflows.py runs them on .github/workflows and on broken copies, so each rule is shown to catch what
it is for. A workflow is the parsed YAML (a dict); `uses` pins are checked on the raw text (comments).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
ENVIRONMENTS = sorted(path.stem for path in (REPO / "terraform" / "environments").glob("*.tfvars"))

CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
PLAN_ROLE = "${{ vars.PLAN_ROLE_ARN }}"
APPLY_ROLE = "${{ vars.APPLY_ROLE_ARN }}"
PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<comment>.*)$")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+(\.\d+){0,2}\b")

Workflow = dict[str, Any]
Job = dict[str, Any]
Step = dict[str, Any]
Rule = Callable[[Workflow], list[str]]


def load(path: Path) -> Workflow:
    raw: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    return {("on" if key is True else str(key)): value for key, value in raw.items()}


def steps(job: Job) -> list[Step]:
    found: list[Step] = job.get("steps", [])
    return found


def uses(step: Step, action: str) -> bool:
    return str(step.get("uses", "")).startswith(action)


def role_of(job: Job) -> str | None:
    """The role-to-assume of the job's credentials step, if it has one."""
    roles = [
        str(step.get("with", {}).get("role-to-assume"))
        for step in steps(job)
        if uses(step, CREDENTIALS_ACTION)
    ]
    return roles[0] if roles else None


def index_of(job: Job, predicate: Callable[[Step], bool]) -> int | None:
    return next((i for i, step in enumerate(steps(job)) if predicate(step)), None)


def runs(fragment: str) -> Callable[[Step], bool]:
    return lambda step: fragment in str(step.get("run", ""))


def commands(job: Job) -> list[list[str]]:
    """Every `terraform` command line of the job's run steps, split like a shell (continuations joined)."""
    found = []
    for step in steps(job):
        script = str(step.get("run", "")).replace("\\\n", " ")
        for line in script.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "terraform":
                found.append(words)
    return found


def terraform_subcommand(words: list[str]) -> str:
    return next(word for word in words[1:] if not word.startswith("-"))


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------
def pull_requests_never_hold_apply_rights(workflow: Workflow) -> list[str]:
    """PR jobs: triggered by pull_request only, no GitHub environment, only the plan role, never apply."""
    problems = []
    if set(workflow["on"]) != {"pull_request"}:
        problems.append(
            f"pull-request workflow triggers on {sorted(workflow['on'])}, expected pull_request only"
        )
    for name, job in workflow["jobs"].items():
        if "environment" in job:
            problems.append(
                f"PR job {name} runs in environment {job['environment']!r} (apply roles trust those)"
            )
        if "APPLY_ROLE" in yaml.safe_dump(job):
            problems.append(f"PR job {name} references an apply role")
        role = role_of(job)
        if role is not None and role != PLAN_ROLE:
            problems.append(f"PR job {name} assumes {role}, expected the read-only plan role {PLAN_ROLE}")
        for words in commands(job):
            if terraform_subcommand(words) in ("apply", "destroy", "import", "state"):
                problems.append(f"PR job {name} runs terraform {terraform_subcommand(words)}")
            if terraform_subcommand(words) == "plan" and "-lock=false" not in words:
                problems.append(f"PR job {name} plans with a state lock the read-only role cannot take")
    return problems


def id_token_only_where_needed(workflow: Workflow) -> list[str]:
    """No default permissions; id-token: write exactly in jobs that assume a role; nothing else writes."""
    problems = []
    if workflow.get("permissions") != {}:
        problems.append(f"workflow-level permissions are {workflow.get('permissions')!r}, expected {{}}")
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"job {name} has no explicit permissions")
            continue
        wants_token = role_of(job) is not None
        if (permissions.get("id-token") == "write") != wants_token:
            problems.append(
                f"job {name}: id-token is {permissions.get('id-token')!r}, assumes a role {wants_token}"
            )
        writes = sorted(
            scope for scope, level in permissions.items() if level == "write" and scope != "id-token"
        )
        if writes:
            problems.append(f"job {name} can write {writes}")
    return problems


# Which job holds which role, in which GitHub environment.
DEPLOY_ROLES = {
    "build": (None, None),
    "dev": ("dev", APPLY_ROLE),
    "plan-prod": (None, PLAN_ROLE),
    "apply-prod": ("prod", APPLY_ROLE),
}


def deploy_roles(workflow: Workflow) -> list[str]:
    """main only; each job's environment and role as in DEPLOY_ROLES; apply roles only in environments."""
    problems = []
    if workflow["on"] != {"push": {"branches": ["main"]}}:
        problems.append(f"deploy triggers on {workflow['on']!r}, expected pushes to main only")
    actual = {name: (job.get("environment"), role_of(job)) for name, job in workflow["jobs"].items()}
    if actual != DEPLOY_ROLES:
        problems.append(f"jobs (environment, role) are {actual}, expected {DEPLOY_ROLES}")
    for name, (environment, role) in actual.items():
        if role == APPLY_ROLE and environment not in ENVIRONMENTS:
            problems.append(f"job {name} assumes an apply role outside a known environment ({environment!r})")
    return problems


def applies_are_serialised(workflow: Workflow) -> list[str]:
    """Every job that assumes an apply role runs alone in its environment and is never cancelled mid-apply."""
    problems = []
    for name, job in workflow["jobs"].items():
        if role_of(job) != APPLY_ROLE:
            continue
        concurrency = job.get("concurrency")
        if not isinstance(concurrency, dict) or concurrency.get("cancel-in-progress") is not False:
            problems.append(f"job {name} applies without a concurrency group that never cancels")
        elif concurrency.get("group") != f"apply-{job.get('environment')}":
            problems.append(
                f"job {name}: concurrency group {concurrency.get('group')!r}, expected one per environment"
            )
    return problems


def ordering(workflow: Workflow) -> list[str]:
    """prod waits for dev's smoke test; guards run before credentials; the smoke test follows dev's apply."""
    problems = []
    jobs = workflow["jobs"]
    if set(jobs["plan-prod"].get("needs", [])) != {"build", "dev"}:
        problems.append(
            "plan-prod must need build and dev (prod only after dev applied and passed its smoke test)"
        )
    if set(jobs["apply-prod"].get("needs", [])) != {"build", "plan-prod"}:
        problems.append("apply-prod must need build and plan-prod")
    for name in ("dev", "plan-prod", "apply-prod"):
        job = jobs[name]
        credentials = index_of(job, lambda step: uses(step, CREDENTIALS_ACTION))
        guards = [
            ("environment guard", index_of(job, runs("pipeline_check.py environment"))),
            ("package guard", index_of(job, runs("pipeline_check.py artifact build/projector.zip"))),
        ]
        if name == "apply-prod":
            guards.append(("plan manifest guard", index_of(job, runs("pipeline_check.py manifest check"))))
        for what, position in guards:
            if position is None or credentials is None or position > credentials:
                problems.append(f"{name}: the {what} must run before AWS credentials are requested")
        download = index_of(job, lambda step: uses(step, "actions/download-artifact@"))
        package = index_of(job, runs("pipeline_check.py artifact"))
        if download is None or package is None or package < download:
            problems.append(f"{name}: the package must be checked after it is downloaded")
    dev = jobs["dev"]
    apply = index_of(dev, runs(" apply "))
    smoke = index_of(dev, runs("scripts/smoke.py --terraform-dir terraform"))
    if apply is None or smoke is None or smoke < apply:
        problems.append("dev: the smoke test must run after the apply")
    return problems


def reviewed_plan_is_applied(workflow: Workflow) -> list[str]:
    """The prod plan file travels plan-prod -> artifact -> apply-prod unchanged and is what apply applies."""
    problems = []
    plan_job, apply_job = workflow["jobs"]["plan-prod"], workflow["jobs"]["apply-prod"]
    plans = [words for words in commands(plan_job) if terraform_subcommand(words) == "plan"]
    outs = [word.removeprefix("-out=") for words in plans for word in words if word.startswith("-out=")]
    if len(outs) != 1:
        return [f"plan-prod must save exactly one plan (-out=), found {outs}"]
    uploads = [step["with"] for step in steps(plan_job) if uses(step, "actions/upload-artifact@")]
    if len(uploads) != 1:
        return [f"plan-prod must upload exactly one artifact, found {len(uploads)}"]
    upload = uploads[0]
    if int(upload.get("retention-days", 90)) > 1:
        problems.append(
            f"the plan artifact is kept {upload.get('retention-days', 90)} days: plan files can hold secrets"
        )
    if upload.get("if-no-files-found") != "error":
        problems.append("the plan upload must fail when the plan is missing")
    uploaded_dir = posixpath.normpath(str(upload["path"]))
    # plan-prod moves the plan file out of terraform/ into the uploaded folder: follow it.
    scripts = "\n".join(str(step.get("run", "")) for step in steps(plan_job))
    moved = re.search(rf"mv terraform/{re.escape(outs[0])} (\S+)", scripts)
    planned = posixpath.normpath(moved.group(1)) if moved else posixpath.join("terraform", outs[0])
    if posixpath.dirname(planned) != uploaded_dir:
        problems.append(f"the saved plan {planned} is not in the uploaded folder {uploaded_dir}")
    downloads = {
        step["with"]["name"]: posixpath.normpath(step["with"]["path"])
        for step in steps(apply_job)
        if uses(step, "actions/download-artifact@")
    }
    if downloads.get(upload["name"]) != uploaded_dir:
        problems.append(
            f"apply-prod must download artifact {upload['name']!r} to {uploaded_dir}, has {downloads}"
        )
    subcommands = [terraform_subcommand(words) for words in commands(apply_job)]
    if "plan" in subcommands:
        problems.append("apply-prod plans again: it must apply the reviewed plan file only")
    applies = [words for words in commands(apply_job) if terraform_subcommand(words) == "apply"]
    if len(applies) != 1:
        return [*problems, f"apply-prod must run exactly one terraform apply, found {len(applies)}"]
    words = applies[0]
    chdir = next((word.removeprefix("-chdir=") for word in words if word.startswith("-chdir=")), ".")
    applied = posixpath.normpath(posixpath.join(chdir, words[-1]))
    if applied != planned or "-auto-approve" in words:
        problems.append(f"apply-prod applies {applied!r}, not the reviewed plan file {planned!r}")
    checked = index_of(apply_job, runs(f"--plan {planned}"))
    if checked is None:
        problems.append(f"apply-prod must check the manifest of {planned} before applying it")
    return problems


def actions_are_pinned(text: str) -> list[str]:
    """Every third-party action by full commit SHA, with the release it is in a trailing comment."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = PINNED_USES.match(line)
        if match is None:
            continue
        if not FULL_SHA.match(match["ref"]):
            problems.append(f"line {number}: {match['action']}@{match['ref']} is not pinned to a commit")
        elif not VERSION_COMMENT.match(match["comment"]):
            problems.append(f"line {number}: {match['action']} needs a '# vX.Y.Z' comment naming the release")
    return problems


PULL_REQUEST_RULES: list[Rule] = [pull_requests_never_hold_apply_rights, id_token_only_where_needed]
DEPLOY_RULES: list[Rule] = [
    deploy_roles,
    id_token_only_where_needed,
    applies_are_serialised,
    ordering,
    reviewed_plan_is_applied,
]
