"""Build the projector's Lambda deployment package, or check one against its target.

    python scripts/build_projector.py                       # -> build/projector.zip for Terraform's target
    python scripts/build_projector.py --verify build/projector.zip
    python scripts/build_projector.py --host -o /tmp/p.zip  # this interpreter's: import it here, never deploy

The target (runtime and architecture) is terraform/definitions/projector_runtime.json, which the
projector module reads too. `--arch` / `--python` only assert it: a value that disagrees is refused
(exit 2), since a zip for another target cannot load its native modules there (orjson would be missing
and the projector would fall back to the standard json module without a word).

Contents: the `projector` package with its mappings, and requirements/lambda.txt (Powertools,
typing_extensions, jmespath, orjson, urllib3) installed by hash as binary wheels for the target's
platform and CPython; boto3, botocore and s3transfer come from the Lambda runtime. The archive records
its target and lock in projector-build.json and is deterministic (sorted entries, fixed timestamps), so
an unchanged build keeps Terraform's source_code_hash.

`--verify` checks a zip statically: manifest, wheel tags, ELF machine, no foreign binaries, versions
against the lock. Exit codes: 0 built (or the zip fits); 1 the zip does not fit (--verify); 2 refused or
failed to build.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.artifact import MACHINES, ArtifactError, build, load_target, resolve_target, verify

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_projector.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, default=ROOT / "build" / "projector.zip", help="zip path"
    )
    parser.add_argument(
        "-a",
        "--arch",
        choices=sorted(MACHINES),
        help="assert the Lambda architecture (must match Terraform's)",
    )
    parser.add_argument("-p", "--python", help="assert the Lambda Python version, e.g. 3.12 (must match)")
    parser.add_argument(
        "--host", action="store_true", help="build for this interpreter and machine (tests; not deployable)"
    )
    parser.add_argument(
        "--verify", type=Path, metavar="ZIP", help="check ZIP against the target, build nothing"
    )
    args = parser.parse_args(argv)
    if args.host and (args.arch or args.python):
        parser.error("--host builds for this machine: it takes no --arch or --python")

    try:
        if args.verify is not None:
            target = load_target()
            problems = verify(args.verify, target)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print(f"{args.verify} does not fit {target.describe()}", file=sys.stderr)
                return 1
            print(f"{args.verify} fits {target.describe()}")
            return 0
        target = resolve_target(args.arch, args.python, host=args.host)
        build(args.output, target)
    except (ArtifactError, OSError, zipfile.BadZipFile) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2
    size = args.output.stat().st_size
    with zipfile.ZipFile(args.output) as archive:
        count = len(archive.namelist())
    print(
        f"{args.output}: {size / 1024 / 1024:.2f} MiB ({size} bytes, {count} files) for "
        f"{target.describe()}{' (host build: not for Lambda)' if args.host else ''}; "
        "handler: projector.handler.lambda_handler"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
