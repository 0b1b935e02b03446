"""Regenerate the dependency locks (requirements/dev.txt, requirements/lambda.txt), or check them offline.

    python scripts/lock.py                          # `make lock`: both locks, keeping unchanged pins
    python scripts/lock.py --upgrade-package orjson # move one project (and what it needs) to its newest
    python scripts/lock.py --upgrade                # move everything the pins allow
    python scripts/lock.py --check                  # offline: exit 1 and say why if a lock is stale
    python scripts/lock.py --requirement uv         # print one project's hashed pin from the dev lock

After adding or changing a pin in pyproject.toml, run `make lock` and commit pyproject.toml with
requirements/. Lock files are generated: on a merge conflict take either side and run `make lock` again.

uv resolves the Lambda's lock for another platform and Python (`--python-platform`, `--python-version`:
the target of terraform/definitions/projector_runtime.json), which pip-compile cannot: it resolves for
the interpreter that runs it. The dev lock is resolved first and constrains the Lambda's, so the zip
carries exactly the versions the test suite ran with.

Exit codes: 0 done (or the locks are current); 1 the locks are stale (--check); 2 uv failed or is missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.locks import (
    DEV_LOCK,
    LAMBDA_INPUT,
    LAMBDA_LOCK,
    PYPROJECT,
    ROOT,
    RUNTIME_DEFINITION,
    check_locks,
    normalize,
    read_lock,
    uv_platform,
    uv_python,
)


def _relative(path: Path) -> str:
    # uv writes its command line into the lock's header: relative paths keep it the same on every machine.
    return str(path.relative_to(ROOT))


def _uv() -> str:
    """uv from this interpreter's environment (the dev venv, which has it from the lock), else PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv is not installed: run `make lock` (it installs uv from the dev lock)")
    return found


def commands(uv: str, upgrade: list[str]) -> list[list[str]]:
    """The two `uv pip compile` runs: the dev environment, then the Lambda's bundle constrained by it."""
    runtime = json.loads(RUNTIME_DEFINITION.read_text(encoding="utf-8"))
    common = [uv, "pip", "compile", "--quiet", "--generate-hashes", *upgrade]
    dev = [*common, _relative(PYPROJECT), "--extra", "dev", "--universal", "-o", _relative(DEV_LOCK)]
    bundle = [
        *common, _relative(LAMBDA_INPUT), "-c", _relative(DEV_LOCK),
        "--only-binary", ":all:",  # the zip is installed with --only-binary: fail here, not in the build
        "--python-version", uv_python(runtime), "--python-platform", uv_platform(runtime),
        "-o", _relative(LAMBDA_LOCK),
    ]  # fmt: skip
    return [dev, bundle]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lock.py", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-c", "--check", action="store_true", help="only check the locks (offline)")
    mode.add_argument("-r", "--requirement", metavar="NAME", help="print NAME's hashed pin from dev.txt")
    mode.add_argument("-U", "--upgrade", action="store_true", help="let every pin move to its newest")
    mode.add_argument(
        "-P", "--upgrade-package", action="append", default=[], metavar="NAME", help="move NAME (repeatable)"
    )
    args = parser.parse_args(argv)

    if args.requirement:
        pins = read_lock(DEV_LOCK).get(normalize(args.requirement))
        if not pins:
            print(f"{args.requirement} is not in {_relative(DEV_LOCK)}", file=sys.stderr)
            return 1
        sys.stdout.write("".join(pin.requirement() for pin in pins))
        return 0
    if not args.check:
        upgrade = ["--upgrade"] if args.upgrade else []
        upgrade += [f"--upgrade-package={name}" for name in args.upgrade_package]
        try:
            uv = _uv()
            for command in commands(uv, upgrade):
                subprocess.run(command, cwd=ROOT, check=True)
        except (FileNotFoundError, subprocess.CalledProcessError) as error:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)
            return 2
    problems = check_locks()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    if args.check:
        print("requirements/dev.txt and requirements/lambda.txt cover pyproject.toml and the Lambda's target")
    else:
        print(f"wrote {_relative(DEV_LOCK)} and {_relative(LAMBDA_LOCK)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
