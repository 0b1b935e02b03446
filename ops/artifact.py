"""The projector's deployment package: its target, a reproducible build, and a static check of a zip.

The target (Lambda runtime and architecture) is ``terraform/definitions/projector_runtime.json``, which
the projector module reads for its defaults: the zip is built for what Terraform deploys. Dependencies
come from ``requirements/lambda.txt`` (hashes required, binary wheels only, for the target's platform and
CPython), so a native module such as orjson is the target's build, never this machine's.

The zip is deterministic (sorted entries, one timestamp, fixed permissions): an unchanged build has the
same bytes, so Terraform's ``source_code_hash`` only moves when the code or a pin does.

Example
-------
>>> target = load_target()                                # arm64, python3.12
>>> manifest = build(Path("build/projector.zip"), target)
>>> verify(Path("build/projector.zip"), target)           # [] when the zip fits the target
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ops.locks import LAMBDA_LOCK, RUNTIME_DEFINITION, RUNTIME_PROVIDED, normalize, read_lock
from projector.names import INDICES_FILE

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "projector-build.json"
"""The zip's own record of what it was built for and from (at the archive's root, beside ``projector/``)."""
EPOCH = (2020, 1, 1, 0, 0, 0)
HANDLERS = ("projector/handler.py", "projector/purge.py")
_INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

# Lambda's Python 3.12 and 3.13 run on Amazon Linux 2023, whose glibc is 2.34: the newest manylinux
# wheels they can load. (Terraform's validation allows exactly these runtimes.)
RUNTIME_GLIBC = {"python3.12": (2, 34), "python3.13": (2, 34)}
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
ELF_MACHINES = {"aarch64": 183, "x86_64": 62}
"""``e_machine`` of the ELF header: EM_AARCH64, EM_X86_64."""
_FOREIGN_MAGIC = {
    b"\xcf\xfa\xed\xfe": "a Mach-O (macOS) binary",
    b"\xfe\xed\xfa\xcf": "a Mach-O (macOS) binary",
    b"\xca\xfe\xba\xbe": "a universal Mach-O (macOS) binary",
}
_FOREIGN_SUFFIXES = (".pyd", ".dll", ".dylib", ".exe")


class ArtifactError(RuntimeError):
    """The package cannot be built for the requested target (a bad definition, a refused override)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the zip runs: a CPython version on one Linux architecture with at least some glibc."""

    runtime: str
    """Lambda's runtime name, e.g. ``python3.12``."""
    architecture: str
    """Lambda's name for it: ``arm64`` or ``x86_64``."""
    glibc: tuple[int, int]

    @property
    def python(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def machine(self) -> str:
        return MACHINES[self.architecture]

    @property
    def platforms(self) -> list[str]:
        """Every platform tag the target loads, newest first: this glibc's manylinux and every older one.

        pip's ``--platform`` takes each literally (``manylinux_2_34`` does not admit a ``manylinux_2_17``
        wheel), so the build passes them all, as the static check accepts them all.
        """
        newest = [f"manylinux_2_{minor}_{self.machine}" for minor in range(self.glibc[1], 4, -1)]
        # The legacy names of manylinux_2_17 / _2_12 / _2_5, which auditwheel still writes beside the new.
        legacy = [f"manylinux{name}_{self.machine}" for name in ("2014", "2010", "1")]
        return newest + legacy

    @property
    def cpython(self) -> str:
        """The CPython tag, e.g. ``cp312``."""
        return "cp" + self.python.replace(".", "")

    @property
    def extension_suffix(self) -> str:
        """How CPython names a native module for this target: ``<name>.cpython-312-aarch64-linux-gnu.so``."""
        return f".cpython-{self.python.replace('.', '')}-{self.machine}-linux-gnu.so"

    def describe(self) -> str:
        return f"{self.runtime} on {self.architecture} (glibc {self.glibc[0]}.{self.glibc[1]})"


def load_target(path: Path = RUNTIME_DEFINITION) -> Target:
    """The target Terraform deploys: ``definitions/projector_runtime.json``."""
    values = json.loads(path.read_text(encoding="utf-8"))
    runtime, architecture = values.get("runtime"), values.get("architecture")
    if runtime not in RUNTIME_GLIBC or architecture not in MACHINES:
        raise ArtifactError(
            f"{path.name} names runtime {runtime!r} and architecture {architecture!r}; valid: runtime "
            f"{', '.join(sorted(RUNTIME_GLIBC))}, architecture {', '.join(sorted(MACHINES))}"
        )
    return Target(runtime, architecture, RUNTIME_GLIBC[runtime])


def host_target() -> Target:
    """This interpreter on this machine: a zip to import here (tests), never to deploy."""
    machine = platform.machine()
    architecture = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64", "AMD64": "x86_64"}.get(machine)
    library, version = platform.libc_ver()
    if architecture is None or library != "glibc":
        raise ArtifactError(
            f"a host build needs Linux with glibc on x86_64 or aarch64, not {machine}/{library}"
        )
    major, minor = (int(part) for part in version.split(".")[:2])
    return Target(f"python{sys.version_info[0]}.{sys.version_info[1]}", architecture, (major, minor))


def resolve_target(architecture: str | None, python: str | None, host: bool = False) -> Target:
    """The definitions' target; explicit values must agree with it (a zip for another target cannot load)."""
    if host:
        return host_target()
    target = load_target()
    wanted = {"architecture": (architecture, target.architecture), "python": (python, target.python)}
    wrong = [f"{name} {given} (Terraform deploys {deployed})" for name, (given, deployed) in wanted.items()
             if given is not None and given != deployed]  # fmt: skip
    if wrong:
        raise ArtifactError(
            f"refusing to build for {', '.join(wrong)}: a zip built for another target fails to load its "
            f"native modules on Lambda. Change {RUNTIME_DEFINITION.relative_to(ROOT)} (Terraform reads it "
            "too) to move both, or pass --host for a zip to import on this machine only"
        )
    return target


# ---------------------------------------------------------------------------------------------- build


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _install(target: Target, lock: Path, into: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-compile", "--require-hashes", "--only-binary=:all:",
        *(option for name in target.platforms for option in ("--platform", name)),
        "--python-version", target.python,
        "--implementation", "cp", "--abi", target.cpython,
        "--target", str(into), "-r", str(lock),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ArtifactError(
            f"pip could not install {lock.name} for {target.describe()}:\n{done.stderr.strip()}"
        )


def _entries(target: Target, lock: Path, workdir: Path) -> dict[str, Path]:
    """Archive path → file: the projector package and indices.json, then the locked dependencies as pip
    installed them."""
    entries: dict[str, Path] = {}
    for path in sorted((ROOT / "projector").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            entries[str(path.relative_to(ROOT))] = path
    # The index names' one definition, at the same path relative to the package as in the repository
    # (projector/names.py finds it there in both).
    entries[str(INDICES_FILE.relative_to(ROOT))] = INDICES_FILE
    _install(target, lock, workdir)
    for path in sorted(workdir.rglob("*")):
        relative = path.relative_to(workdir)
        # bin/ holds console scripts whose first line names the building interpreter, and RECORD hashes
        # them: both differ between machines (and nothing imports them). INSTALLER and REQUESTED describe
        # the installation, not the package. Left out, the zip's bytes depend on the lock alone.
        if (
            path.is_file()
            and relative.parts[0] != "bin"
            and "__pycache__" not in relative.parts
            and not (relative.parts[0].endswith(".dist-info") and path.name in _INSTALL_RECORDS)
        ):
            entries[str(relative)] = path
    return entries


def build(output: Path, target: Target, lock: Path = LAMBDA_LOCK) -> dict[str, object]:
    """Write the zip for `target` from `lock`; return its manifest (also stored in the zip)."""
    pins = {name: pinned[0].version for name, pinned in read_lock(lock).items()}
    manifest: dict[str, object] = {
        **asdict(target),
        "python": target.python,
        "platform": f"{target.platforms[0]} or older",
        "lock": lock.name,
        "lock_sha256": _sha256(lock),
        "packages": dict(sorted(pins.items())),
        "handlers": ["projector.handler.lambda_handler", "projector.purge.lambda_handler"],
    }
    with tempfile.TemporaryDirectory() as workdir:
        entries = _entries(target, lock, Path(workdir))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            contents = {name: path.read_bytes() for name, path in entries.items()}
            contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
            for name in sorted(contents):
                info = zipfile.ZipInfo(name, EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, contents[name])
    return manifest


# --------------------------------------------------------------------------------------------- verify


def supported_tags(target: Target) -> set[str]:
    """Every wheel tag the target's CPython accepts (what pip would accept there), as ``py-abi-platform``."""
    from packaging.tags import compatible_tags, cpython_tags

    version = tuple(int(part) for part in target.python.split("."))
    platforms = target.platforms
    tags = [*cpython_tags(version, platforms=platforms), *compatible_tags(version, target.cpython, platforms)]
    return {str(tag) for tag in tags}


def wheel_tags(text: str) -> set[str]:
    """The tags a ``*.dist-info/WHEEL`` file declares (``Tag:`` lines; compressed tag sets expanded)."""
    from packaging.tags import parse_tag

    return {str(tag) for line in text.splitlines() if line.startswith("Tag:")
            for tag in parse_tag(line.split(":", 1)[1].strip())}  # fmt: skip


def elf_machine(header: bytes) -> int | None:
    """``e_machine`` of a 64-bit little-endian ELF file from its first 20 bytes; None if it is not one."""
    if header[:4] != b"\x7fELF" or len(header) < 20:
        return None
    if header[4] != 2 or header[5] != 1:  # EI_CLASS 64-bit, EI_DATA little-endian: all Lambda runs
        return -1
    return int.from_bytes(header[18:20], "little")


_DIST_INFO = re.compile(r"^([^/]+)-([^/-]+)\.dist-info/WHEEL$")


def verify(path: Path, target: Target, lock: Path | None = LAMBDA_LOCK) -> list[str]:
    """Every reason the zip at `path` would not run on `target` (or differs from `lock`); [] when none.

    Static: it reads the archive only. Checks the manifest's target, that the handlers are there and the
    runtime's own SDK is not, every bundled wheel's tags against the target's CPython and glibc, every
    ELF file's machine, that no other platform's binaries ride along, and the bundled versions against
    the lock.
    """
    problems: list[str] = []
    accepted = supported_tags(target)
    machine = ELF_MACHINES[target.machine]
    bundled: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if MANIFEST not in names:
            problems.append(f"no {MANIFEST}: not built by scripts/build_projector.py")
        else:
            manifest = json.loads(archive.read(MANIFEST))
            built = (manifest.get("runtime"), manifest.get("architecture"))
            if built != (target.runtime, target.architecture):
                problems.append(
                    f"built for {built[0]} on {built[1]}, but the target is {target.runtime} on "
                    f"{target.architecture}"
                )
        problems.extend(f"the handler module {name} is missing" for name in HANDLERS if name not in names)
        provided = sorted({name.split("/")[0] for name in names if name.split("/")[0] in RUNTIME_PROVIDED})
        problems.extend(f"{name}/ is bundled, but the Lambda runtime provides it" for name in provided)
        for name in names:
            if name.endswith("/"):
                continue
            match = _DIST_INFO.match(name)
            if match:
                bundled[normalize(match[1])] = match[2]
                tags = wheel_tags(archive.read(name).decode())
                if not tags & accepted:
                    problems.append(
                        f"{match[1]} {match[2]} is a wheel for {', '.join(sorted(tags))}, which "
                        f"{target.describe()} cannot load"
                    )
            with archive.open(name) as member:
                header = member.read(20)
            found = elf_machine(header)
            if found is not None and found != machine:
                problems.append(f"{name} is ELF machine {found}, not {machine} ({target.machine})")
            elif header[:4] in _FOREIGN_MAGIC or header[:2] == b"MZ" or name.endswith(_FOREIGN_SUFFIXES):
                what = _FOREIGN_MAGIC.get(header[:4], "a Windows or macOS binary")
                problems.append(f"{name} is {what}")
            if name.endswith(".so") and ".cpython-" in name and not name.endswith(target.extension_suffix):
                problems.append(
                    f"{name} is a native module for another CPython (wants *{target.extension_suffix})"
                )
    if lock is not None:
        locked = {name: pins[0].version for name, pins in read_lock(lock).items()}
        if bundled != locked:
            extra = sorted(f"{n} {v}" for n, v in bundled.items() if locked.get(n) != v)
            missing = sorted(f"{n} {v}" for n, v in locked.items() if bundled.get(n) != v)
            problems.append(
                f"bundled packages differ from {lock.name}: in the zip {extra or 'nothing else'}, "
                f"in the lock {missing or 'nothing else'}"
            )
    return problems
