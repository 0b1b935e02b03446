"""Each import contract in pyproject.toml fails when its rule is broken.

`lint-imports` passing on the tree (tests/test_code_quality.py) shows only that no rule is broken today; a
contract that names a wrong package, or a package grimp does not see (scripts/ is a namespace package),
would pass as well. So each case copies the packages and the configuration to a temporary directory, adds
one import that breaks a rule, and checks that the contract guarding that rule reports it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("scripts", "ops", "devstack", "stackclient", "projector")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python packages and pyproject.toml, copied once (each case then edits one file of a copy)."""
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.jsonl", "*.mjs")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint_imports(where: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    # Without PYTHONPATH the packages can only come from `where`, which lint-imports puts first on the path.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    selected = [argument for contract in contracts for argument in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *selected],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_copied_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "module", "violation"),
    [
        ("layers", "projector/config.py", "import stackclient.items"),  # a lower layer imports a higher
        ("layers", "stackclient/items.py", "import ops.errors"),
        ("layers", "ops/errors.py", "import scripts.seed"),  # scripts/ is in the graph
        ("layers", "devstack/checkpoint.py", "import ops.errors"),  # the siblings stay independent
        ("ops-without-emulator", "ops/errors.py", "import devstack.checkpoint"),
        ("ops-without-emulator", "ops/errors.py", "import stackclient.poison_pill"),  # indirectly
        ("projector-alone", "projector/config.py", "import devstack.checkpoint"),
        ("projector-alone", "projector/config.py", "import ops.errors"),
        ("projector-alone", "projector/config.py", "import stackclient.items"),
    ],
)
def test_a_contract_reports_the_import_that_breaks_it(
    tree: Path, tmp_path: Path, contract: str, module: str, violation: str
) -> None:
    broken = tmp_path / "tree"
    shutil.copytree(tree, broken)
    if "poison_pill" in violation:
        # The indirect case: ops imports stackclient (allowed), which imports devstack (not allowed to ops).
        (broken / "stackclient" / "poison_pill.py").write_text("import devstack.checkpoint\n")
    with (broken / module).open("a") as source:
        source.write(f"\n{violation}  # deliberately breaks {contract}\n")
    result = lint_imports(broken, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and "0 broken" not in result.stdout, result.stdout
    assert violation.split()[-1] in result.stdout, result.stdout  # the report names the offending import
