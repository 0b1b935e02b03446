"""`resolvers/manifest.json` (docs/design.md §7): which file resolves which field, on which data source."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class ManifestError(ValueError):
    """The manifest names something that does not exist."""


@dataclass(frozen=True)
class FunctionDef:
    name: str
    file: Path
    data_source: str


@dataclass(frozen=True)
class ResolverDef:
    type_name: str
    field: str
    kind: str  # UNIT or PIPELINE
    file: Path
    data_source: str | None
    functions: tuple[FunctionDef, ...]


@dataclass(frozen=True)
class Manifest:
    data_sources: dict[str, str]  # name → AppSync data source type
    resolvers: tuple[ResolverDef, ...]
    environment_variables: tuple[str, ...]


def load_manifest(resolvers_dir: Path) -> Manifest:
    """Read and check the manifest: every file, function and data source it names exists."""
    raw = json.loads((resolvers_dir / "manifest.json").read_text(encoding="utf-8"))
    data_sources = {name: spec["type"] for name, spec in raw["data_sources"].items()}

    def existing(relative: str) -> Path:
        path = (resolvers_dir / relative).resolve()
        if not path.is_file():
            raise ManifestError(f"manifest names {relative}, which does not exist in {resolvers_dir}")
        return path

    def source(name: str, owner: str) -> str:
        if name not in data_sources:
            raise ManifestError(f"{owner} uses data source {name!r}, which the manifest does not declare")
        return name

    functions = {
        name: FunctionDef(name, existing(spec["file"]), source(spec["data_source"], name))
        for name, spec in raw.get("functions", {}).items()
    }
    resolvers = []
    for spec in raw["resolvers"]:
        owner = f"{spec['type']}.{spec['field']}"
        if spec["kind"] == "PIPELINE":
            missing = [name for name in spec["functions"] if name not in functions]
            if missing:
                raise ManifestError(f"{owner} uses undeclared functions {missing}")
            resolvers.append(
                ResolverDef(
                    spec["type"], spec["field"], "PIPELINE", existing(spec["file"]), None,
                    tuple(functions[name] for name in spec["functions"]),
                )
            )  # fmt: skip
        elif spec["kind"] == "UNIT":
            resolvers.append(
                ResolverDef(
                    spec["type"],
                    spec["field"],
                    "UNIT",
                    existing(spec["file"]),
                    source(spec["data_source"], owner),
                    (),
                )
            )
        else:
            raise ManifestError(f"{owner}: kind must be UNIT or PIPELINE, not {spec['kind']!r}")
    return Manifest(data_sources, tuple(resolvers), tuple(raw.get("environment_variables", {})))
