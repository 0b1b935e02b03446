"""Build the projector's Lambda deployment package: build/projector.zip (prints its size).

    python scripts/build_projector.py [--output build/projector.zip] [--arch x86_64|arm64] [--python 3.11]
                                      [--no-orjson]

Contents: the ``projector`` package with its mappings, and ``terraform/definitions/indices.json`` (the
index and alias names it shares with Terraform and the resolvers); AWS Lambda Powertools, urllib3 (the
projector's HTTP client) and typing_extensions, copied from this environment (pure Python; bundled rather
than a layer so the pinned versions ship with the code and no region-specific layer ARN is needed); orjson
for the target architecture, fetched from PyPI as a binary wheel (the projector falls back to the standard
json module without it; ``--no-orjson`` skips it). boto3/botocore are not bundled: the Lambda Python
runtime provides them (and its botocore then runs on the bundled urllib3, which comes first on the path).
The archive is deterministic (sorted entries, fixed timestamps), so an unchanged build keeps Terraform's
source hash.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from projector.names import INDICES_FILE

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ("aws-lambda-powertools", "urllib3", "typing-extensions")
PINNED = ("aws-lambda-powertools", "urllib3")
"""Bundled from this environment, so it must hold the version pyproject.toml pins."""
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
EPOCH = (2020, 1, 1, 0, 0, 0)


def _pinned(name: str) -> str:
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        text = line.strip().strip('",')
        if text.lower().startswith(f"{name}=="):
            return text
    raise SystemExit(f"{name} is not pinned in pyproject.toml")


def _distribution_files(name: str) -> list[tuple[Path, str]]:
    """(file on disk, path in the archive) for an installed distribution, without caches and metadata."""
    distribution = metadata.distribution(name)
    files = []
    for entry in distribution.files or []:
        path = str(entry)
        if "__pycache__" in path or ".dist-info/" in path or path.startswith(".."):
            continue
        files.append((Path(str(distribution.locate_file(entry))), path))
    return files


def _orjson_files(arch: str, python: str, workdir: Path) -> list[tuple[Path, str]]:
    target = workdir / "orjson"
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:",
        "--platform", PLATFORMS[arch], "--python-version", python, "--implementation", "cp",
        "--target", str(target), _pinned("orjson"),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return [
        (path, str(path.relative_to(target)))
        for path in sorted(target.rglob("*"))
        if path.is_file() and ".dist-info" not in str(path) and "__pycache__" not in str(path)
    ]


def build(output: Path, arch: str = "x86_64", python: str = "3.11", orjson: bool = True) -> Path:
    for name in PINNED:
        installed, pinned = f"{name}=={metadata.version(name)}", _pinned(name)
        if installed.lower() != pinned.lower():
            raise SystemExit(f"installed {installed}, but pyproject.toml pins {pinned}: pip install it")
    entries: dict[str, Path] = {}
    for path in sorted((ROOT / "projector").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            entries[str(path.relative_to(ROOT))] = path
    # The index names' one definition, at the same path relative to the package as in the repository
    # (projector/names.py finds it there in both).
    entries[str(INDICES_FILE.relative_to(ROOT))] = INDICES_FILE
    for name in BUNDLED:
        for path, archived in _distribution_files(name):
            entries[archived] = path
    with tempfile.TemporaryDirectory() as workdir:
        if orjson:
            for path, archived in _orjson_files(arch, python, Path(workdir)):
                entries[archived] = path
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for archived in sorted(entries):
                info = zipfile.ZipInfo(archived, EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[archived].read_bytes())
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the projector Lambda zip")
    parser.add_argument(
        "-o", "--output", type=Path, default=ROOT / "build" / "projector.zip", help="zip path"
    )
    parser.add_argument(
        "-a", "--arch", choices=sorted(PLATFORMS), default="x86_64", help="Lambda architecture"
    )
    parser.add_argument("-p", "--python", default="3.11", help="Lambda Python version, e.g. 3.11")
    parser.add_argument("--no-orjson", action="store_true", help="leave orjson out (stdlib json fallback)")
    args = parser.parse_args()
    path = build(args.output, args.arch, args.python, not args.no_orjson)
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(
        f"{path}: {size / 1024 / 1024:.2f} MiB ({size} bytes, {count} files); "
        "handler: projector.handler.lambda_handler"
    )


if __name__ == "__main__":
    main()
