"""The OpenSearch index families and their aliases (docs/design.md §4), read from their one definition.

``terraform/definitions/indices.json`` names, per family, the concrete indices' prefix (an index is the
prefix plus its mapping version), the write alias and the filtered read alias. Terraform reads the same
file for IAM paths and access policies and hands the read aliases to the resolvers as ``ctx.env``; the
local AppSync endpoint does the same. The Lambda zip carries the file at the same path relative to this
package (``scripts/build_projector.py``), so it is found the same way in the repository and in Lambda.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

INDICES_FILE = Path(__file__).resolve().parent.parent / "terraform" / "definitions" / "indices.json"
# Lower case, no characters OpenSearch forbids in index and alias names.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class IndexFamily:
    """One entity's index names, without the optional per-stack ``INDEX_PREFIX``."""

    family: str
    """The family's name: mapping files ``<family>.v<N>.json``, the ops commands' ``--entity``."""
    entity: str
    """The items' ``type`` attribute value projected into this family."""
    index_prefix: str
    """Every concrete index is this prefix plus its mapping version."""
    write_alias: str
    read_alias: str
    """Filtered: tombstones never appear in searches."""


def load_index_families(path: Path = INDICES_FILE) -> dict[str, IndexFamily]:
    """The families of ``path`` by entity name; ValueError naming every problem if the file is malformed."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    families: dict[str, IndexFamily] = {}
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path.name}: expected an object of index families")
    for family, spec in raw.items():
        fields = ("entity", "index_prefix", "write_alias", "read_alias")
        if not isinstance(spec, dict) or sorted(spec) != sorted(fields):
            problems.append(f"{family}: needs exactly {', '.join(fields)}")
            continue
        names = (spec["index_prefix"], spec["write_alias"], spec["read_alias"])
        bad = [name for name in (family, *names) if not isinstance(name, str) or not _NAME.match(name)]
        if bad:
            problems.append(f"{family}: not a lower-case index or alias name: {bad}")
            continue
        families[spec["entity"]] = IndexFamily(family, spec["entity"], *names)
    every = [name for f in families.values() for name in (f.write_alias, f.read_alias)]
    if len(set(every)) != len(every):
        problems.append("two families share an alias")
    if problems:
        raise ValueError(f"{path.name}: {'; '.join(problems)}")
    return families


INDEX_FAMILIES = load_index_families()
"""Every family, by entity name."""


def index_family(entity: str) -> IndexFamily:
    """The family of ``entity`` (an item ``type``); KeyError naming the file when it has none."""
    try:
        return INDEX_FAMILIES[entity]
    except KeyError:
        raise KeyError(f"{INDICES_FILE.name} defines no index family for entity {entity!r}") from None
