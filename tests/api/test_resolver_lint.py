"""The resolvers pass AppSync's own lint rules (@aws-appsync/eslint-plugin, `recommended`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ESLINT = REPO / "node_modules" / ".bin" / "eslint"


def _eslint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ESLINT), "-f", "json", *args], cwd=REPO, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_every_resolver_passes_the_appsync_rules() -> None:
    run = _eslint("resolvers")
    assert run.stdout, run.stderr
    reports = json.loads(run.stdout)
    linted = {Path(report["filePath"]).relative_to(REPO / "resolvers").as_posix() for report in reports}
    manifest = json.loads((REPO / "resolvers" / "manifest.json").read_text())
    deployed = {spec["file"] for spec in manifest["functions"].values()} | {
        r["file"] for r in manifest["resolvers"]
    }
    assert deployed <= linted, f"not linted: {deployed - linted}"
    problems = [
        f"{report['filePath']}:{m['line']} {m['ruleId']}: {m['message']}"
        for report in reports
        for m in report["messages"]
    ]
    assert run.returncode == 0 and not problems, "\n".join(problems) or run.stderr


def test_the_lint_catches_syntax_appsync_rejects() -> None:
    # Linted as if it were a resolver file (stdin), so the resolvers' own config and TS project apply.
    source = (REPO / "tests" / "api" / "fixtures" / "unsupported_resolver.js").read_text()
    run = _eslint("--stdin", "--stdin-filename", "resolvers/pipeline.js", stdin=source)
    rules = {m["ruleId"] for report in json.loads(run.stdout) for m in report["messages"]}
    assert run.returncode == 1
    assert {
        "@aws-appsync/no-try",
        "@aws-appsync/no-while",
        "@aws-appsync/no-regex",
        "@aws-appsync/no-disallowed-unary-operators",
    } <= rules, rules
