"""The dependency locks: what they pin, and whether they still cover pyproject.toml and the Lambda's target.

Two lock files, both made by ``make lock`` (``scripts/lock.py``, which runs ``uv pip compile``) and
installed with ``pip --require-hashes``:

* ``requirements/dev.txt``: the development environment (pyproject's dependencies and ``dev`` extra),
  resolved for every platform and Python the project supports (``--universal``).
* ``requirements/lambda.txt``: what the projector's zip bundles (``requirements/lambda.in``), resolved for
  the runtime and architecture of ``terraform/definitions/projector_runtime.json`` and constrained by
  the dev lock, so the zip carries the versions the tests ran with.

Standard library only: ``make install`` checks the locks with the system Python before a venv exists.

Example
-------
>>> problems = check_locks()          # [] when both locks match pyproject.toml and the definitions
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "requirements"
DEV_LOCK = REQUIREMENTS / "dev.txt"
LAMBDA_INPUT = REQUIREMENTS / "lambda.in"
LAMBDA_LOCK = REQUIREMENTS / "lambda.txt"
RUNTIME_DEFINITION = ROOT / "terraform" / "definitions" / "projector_runtime.json"

RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
"""The Lambda Python runtime ships these; the zip leaves them out (pyproject pins boto3 for the tests)."""

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Pin:
    """One pin of a lock file: ``name==version``, its hashes and, in a universal lock, a marker."""

    name: str
    version: str
    hashes: tuple[str, ...]
    marker: str | None = None

    def requirement(self) -> str:
        """The pin as a requirements-file entry that ``pip --require-hashes`` accepts."""
        marker = f" ; {self.marker}" if self.marker else ""
        hashes = "".join(f" \\\n    --hash=sha256:{digest}" for digest in self.hashes)
        return f"{self.name}=={self.version}{marker}{hashes}\n"


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``Typing_Extensions`` and ``typing-extensions`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, list[Pin]]:
    """Every pin of a ``uv pip compile --generate-hashes`` file, by normalised name.

    A universal lock may pin one project twice under exclusive markers (one version per Python range),
    hence a list per name.
    """
    pins: dict[str, list[Pin]] = {}
    name: str | None = None
    version = ""
    marker: str | None = None
    hashes: list[str] = []

    def close() -> None:
        if name is not None:
            pins.setdefault(normalize(name), []).append(Pin(normalize(name), version, tuple(hashes), marker))

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            close()
            match = _PIN.match(stripped)
            if match is None:
                raise ValueError(f"not a hashed pin (name==version): {stripped!r}")
            name, version, marker, hashes = match[1], match[3], match[4], []
            continue
        hashes.extend(_HASH.findall(stripped))
    close()
    return pins


def read_lock(path: Path) -> dict[str, list[Pin]]:
    return parse_lock(path.read_text(encoding="utf-8"))


def pyproject_pins(path: Path = PYPROJECT) -> tuple[dict[str, str], dict[str, str]]:
    """(project dependencies, ``dev`` extra) of pyproject.toml as ``{normalised name: pinned version}``."""
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]

    def pins(entries: Iterable[str], where: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in entries:
            match = _PIN.match(entry.strip())
            if match is None or match[4]:
                raise ValueError(f"pyproject.toml {where}: {entry!r} is not an exact pin (name==version)")
            found[normalize(match[1])] = match[3]
        return found

    extras = project.get("optional-dependencies", {})
    return pins(project.get("dependencies", []), "dependencies"), pins(extras.get("dev", []), "dev")


def lock_header_option(path: Path, option: str) -> str | None:
    """The value uv recorded for ``option`` in a lock's header (the command that made it), if any."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = re.search(rf"(?:^|\s){re.escape(option)}[= ](\S+)", line)
        if match:
            return match[1]
    return None


def uv_platform(runtime: Mapping[str, str]) -> str:
    """uv's ``--python-platform`` for a runtime: Lambda's Python 3.12+ runs on Amazon Linux 2023."""
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[runtime["architecture"]]
    return f"{machine}-manylinux_2_34"


def uv_python(runtime: Mapping[str, str]) -> str:
    return runtime["runtime"].removeprefix("python")


def _mismatches(
    expected: Mapping[str, str], lock: Mapping[str, list[Pin]], lock_name: str, hint: str
) -> list[str]:
    problems = []
    for name, version in sorted(expected.items()):
        found = sorted({pin.version for pin in lock.get(name, [])})
        if found != [version]:
            have = ", ".join(found) or "nothing"
            problems.append(f"{lock_name} pins {name} to {have}, pyproject.toml to {version}: {hint}")
    return problems


def check_locks(
    pyproject: Path = PYPROJECT,
    dev_lock: Path = DEV_LOCK,
    lambda_lock: Path = LAMBDA_LOCK,
    lambda_input: Path = LAMBDA_INPUT,
    runtime_definition: Path = RUNTIME_DEFINITION,
) -> list[str]:
    """Every way the committed locks disagree with pyproject.toml or the Lambda's target; [] when none.

    Offline: it reads the files only. It cannot see a transitive dependency that a new pin would change
    (that needs the index), but any edit of a pin, and any new pin, shows up here.
    """
    regenerate = "run `make lock` and commit requirements/"
    problems: list[str] = []
    for path in (dev_lock, lambda_lock, lambda_input):
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} is missing")
    if problems:
        return problems
    dependencies, dev = pyproject_pins(pyproject)
    dev_pins, lambda_pins = read_lock(dev_lock), read_lock(lambda_lock)
    for lock_name, lock in (("dev.txt", dev_pins), ("lambda.txt", lambda_pins)):
        problems.extend(
            f"{lock_name}: {pin.name}=={pin.version} has no hash"
            for pins in lock.values()
            for pin in pins
            if not pin.hashes
        )
    problems += _mismatches({**dependencies, **dev}, dev_pins, "dev.txt", regenerate)
    bundled = {name: version for name, version in dependencies.items() if name not in RUNTIME_PROVIDED}
    missing_inputs = sorted(set(bundled) - _input_names(lambda_input))
    problems.extend(
        f"requirements/lambda.in lacks {name} (a project dependency the zip must carry): add it, then "
        f"{regenerate}"
        for name in missing_inputs
    )
    problems += _mismatches(bundled, lambda_pins, "lambda.txt", regenerate)
    problems.extend(
        f"lambda.txt bundles {name}, which the Lambda runtime provides: drop it from requirements/lambda.in"
        for name in sorted(RUNTIME_PROVIDED & set(lambda_pins))
    )
    for name, pins in sorted(lambda_pins.items()):
        tested = {pin.version for pin in dev_pins.get(name, [])}
        shipped = {pin.version for pin in pins}
        if not shipped <= tested:
            problems.append(
                f"lambda.txt ships {name} {', '.join(sorted(shipped))} but the dev environment tests "
                f"{', '.join(sorted(tested)) or 'nothing'}: {regenerate}"
            )
    runtime = json.loads(runtime_definition.read_text(encoding="utf-8"))
    for option, wanted in (
        ("--python-version", uv_python(runtime)),
        ("--python-platform", uv_platform(runtime)),
    ):
        recorded = lock_header_option(lambda_lock, option)
        if recorded != wanted:
            problems.append(
                f"lambda.txt was resolved for {option} {recorded}, but definitions/projector_runtime.json "
                f"asks for {wanted}: {regenerate}"
            )
    return problems


def _input_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text and not text.startswith("-"):
            names.add(normalize(re.split(r"[\s\[=<>!~;]", text, maxsplit=1)[0]))
    return names
