"""Guards the deploy pipeline runs before anything is applied (.github/workflows/deploy.yml).

    python scripts/pipeline_check.py environment NAME
    python scripts/pipeline_check.py artifact PATH --sha256 HEX
    python scripts/pipeline_check.py manifest write PATH --environment NAME --commit SHA --plan FILE
                                                         --package ZIP
    python scripts/pipeline_check.py manifest check PATH --environment NAME --commit SHA --plan FILE
                                                         --package ZIP --plan-sha256 HEX

Each check prints one line: ``ok: ...`` and exits 0, or ``error: ...`` (what is wrong and what to do) and
exits 2. The manifest travels with a saved plan from the plan job to the approved apply job: it names the
environment, commit, plan file hash and Lambda package hash the reviewers approved, so an apply of another
environment's plan, another commit's plan, a swapped plan file or a rebuilt package stops here. A plan
that no longer matches the state is refused by Terraform itself (``Saved plan is stale``). Standard
library only: the workflow runs it before installing anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = ROOT / "terraform" / "environments"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
MANIFEST_KEYS = ("environment", "commit", "plan_sha256", "package_sha256")


class CheckError(Exception):
    """A guard failed; the message says what is wrong and what to do."""


def known_environments() -> list[str]:
    """Environments with a variable file: the only names the pipeline deploys."""
    return sorted(path.stem for path in ENVIRONMENTS_DIR.glob("*.tfvars"))


def check_environment(name: str) -> str:
    known = known_environments()
    if name not in known:
        raise CheckError(
            f"unknown environment {name!r}: expected one of {', '.join(known)} "
            "(terraform/environments/<name>.tfvars)"
        )
    return f"environment {name} (terraform/environments/{name}.tfvars)"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expect_sha256(value: str, what: str) -> str:
    if not SHA256.match(value):
        raise CheckError(
            f"{what} must be a 64-character lower-case sha256, got {value!r} (an empty job output?)"
        )
    return value


def check_artifact(path: Path, expected: str) -> str:
    _expect_sha256(expected, "--sha256")
    if not path.is_file():
        raise CheckError(
            f"artifact missing: {path} (did the job that builds it upload it, and is it unexpired?)"
        )
    actual = sha256_of(path)
    if actual != expected:
        raise CheckError(
            f"artifact mismatch: {path} has sha256 {actual}, the build produced {expected}; "
            "rerun the workflow from the build job"
        )
    return f"{path} sha256 {actual}"


def write_manifest(path: Path, environment: str, commit: str, plan: Path, package: Path) -> str:
    check_environment(environment)
    if not COMMIT.match(commit):
        raise CheckError(f"--commit must be a 40-character commit sha, got {commit!r}")
    for file in (plan, package):
        if not file.is_file():
            raise CheckError(f"cannot write the manifest: {file} does not exist")
    manifest = {
        "environment": environment,
        "commit": commit,
        "plan_sha256": sha256_of(plan),
        "package_sha256": sha256_of(package),
    }
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return f"manifest {path}: {manifest['environment']} at {commit[:12]}, plan {manifest['plan_sha256'][:12]}"


def check_manifest(
    path: Path, environment: str, commit: str, plan: Path, package: Path, plan_sha256: str
) -> str:
    check_environment(environment)
    _expect_sha256(plan_sha256, "--plan-sha256")
    if not path.is_file():
        raise CheckError(
            f"plan manifest missing: {path} (the plan artifact is incomplete or expired: re-run)"
        )
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckError(f"plan manifest {path} is not JSON: {error}") from error
    if not isinstance(manifest, dict) or sorted(manifest) != sorted(MANIFEST_KEYS):
        raise CheckError(f"plan manifest {path} must hold exactly {', '.join(MANIFEST_KEYS)}")
    for file, what in ((plan, "plan file"), (package, "Lambda package")):
        if not file.is_file():
            raise CheckError(f"{what} missing: {file} (the artifact is incomplete or expired: re-run)")
    problems = []
    if manifest["environment"] != environment:
        problems.append(f"the plan is for {manifest['environment']!r}, this job applies {environment!r}")
    if manifest["commit"] != commit:
        problems.append(f"the plan was made at commit {manifest['commit']}, this run is at {commit}")
    if manifest["plan_sha256"] != plan_sha256:
        problems.append("the manifest's plan hash differs from the one the plan job reported")
    if sha256_of(plan) != plan_sha256:
        problems.append(f"{plan} is not the plan file the plan job produced (sha256 differs)")
    if sha256_of(package) != manifest["package_sha256"]:
        problems.append(f"{package} is not the Lambda package the plan was made with (sha256 differs)")
    if problems:
        raise CheckError(
            "plan does not match what was reviewed: " + "; ".join(problems) + "; nothing applied"
        )
    return f"plan {plan} for {environment} at {commit[:12]} is the reviewed one"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Deploy pipeline guards (exit 2 with a message on failure)")
    commands = parser.add_subparsers(dest="command", required=True)

    environment = commands.add_parser("environment", help="the name has terraform/environments/<name>.tfvars")
    environment.add_argument("name", help="environment name, e.g. dev")

    artifact = commands.add_parser("artifact", help="a downloaded artifact exists and has the built hash")
    artifact.add_argument("path", type=Path, help="the downloaded file")
    artifact.add_argument("--sha256", required=True, help="the hash the producing job reported")

    manifest = commands.add_parser("manifest", help="write or check a saved plan's manifest")
    actions = manifest.add_subparsers(dest="action", required=True)
    for name in ("write", "check"):
        action = actions.add_parser(name, help=f"{name} the manifest")
        action.add_argument("path", type=Path, help="manifest JSON file")
        action.add_argument("--environment", required=True, help="environment the plan is for")
        action.add_argument("--commit", required=True, help="commit sha the plan was made at")
        action.add_argument("--plan", type=Path, required=True, help="saved plan file (terraform plan -out)")
        action.add_argument("--package", type=Path, required=True, help="the Lambda zip the plan hashed")
        if name == "check":
            action.add_argument("--plan-sha256", required=True, help="plan hash the plan job reported")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> str:
    if args.command == "environment":
        return check_environment(args.name)
    if args.command == "artifact":
        return check_artifact(args.path, args.sha256)
    if args.action == "write":
        return write_manifest(args.path, args.environment, args.commit, args.plan, args.package)
    return check_manifest(args.path, args.environment, args.commit, args.plan, args.package, args.plan_sha256)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        print(f"ok: {run(args)}")
    except CheckError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
