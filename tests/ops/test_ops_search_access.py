"""scripts/search_access.py against a scripted security plugin over real HTTP.

osmem has no security plugin, so a small HTTP server here answers the documented request and response
shapes of `_plugins/_security/api/roles/<role>` and `.../rolesmapping/<role>` (GET: `{"<role>": {...}}` or
404; PUT: 201 `{"status": "CREATED"}` / 200 `{"status": "OK"}`), with the extra fields a GET echoes
(`reserved`, `hidden`, `static`, `dls`, `fls`, `masked_fields`, `and_backend_roles`), and records every
request. What the tests hold the command to: the roles' exact least-privilege permissions, idempotency
(the second run only reads), PUT only for what drifted, and the error paths (403, unreachable, an answer
that is not JSON or not the documented shape, a reserved role) ending in a typed error and exit code 2.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ops.errors import SecurityApiAnswerError, SecurityApiDenied, SecurityApiUnreachable
from ops.search_access import MAPPINGS_API, ROLES_API, SecurityApi, StackRoles, apply, desired_roles
from projector.names import INDEX_FAMILIES
from projector.transport import Transport

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
PROJECTOR = f"arn:aws:iam::{ACCOUNT}:role/cqrs-dev-projector-projector"
PURGE = f"arn:aws:iam::{ACCOUNT}:role/cqrs-dev-projector-purge"
SEARCH = f"arn:aws:iam::{ACCOUNT}:role/cqrs-dev-api-search"
ROLES = StackRoles(PROJECTOR, PURGE, SEARCH)
# Written out on purpose (terraform/definitions/indices.json is the source): a change there must show here.
ENTITY_INDICES = ["listings-v*", "reviews-v*"]
WRITE_ALIASES = ["listings-write", "reviews-write"]
READ_ALIASES = ["listings", "reviews"]


@dataclass
class FakeSecurityPlugin:
    """The roles and role mappings resources; `mode` scripts a fault for every request."""

    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    mappings: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    mode: str = "ok"  # ok | forbidden | html | wrong-shape

    def answer(self, method: str, path: str, body: Any) -> tuple[int, str, bytes]:
        self.requests.append((method, path, body))
        if self.mode == "forbidden":
            # The plugin's answer to a caller without REST API admin rights.
            return _json(403, {"status": "FORBIDDEN", "message": "No permission to access REST API: User"
                               " [name=arn:aws:iam::123456789012:role/ci] does not have any role privileged"
                               " for admin access"})  # fmt: skip
        if self.mode == "html":
            return 200, "text/html", b"<html><body>502 Bad Gateway</body></html>"
        if self.mode == "wrong-shape":
            return _json(200, [{"cluster_permissions": []}])
        if path.startswith(ROLES_API):
            name, store, kind = path.removeprefix(ROLES_API), self.roles, "role"
        elif path.startswith(MAPPINGS_API):
            name, store, kind = path.removeprefix(MAPPINGS_API), self.mappings, "mapping"
        else:
            return _json(400, {"error": {"reason": f"no handler for {path}"}, "status": 400})
        if method == "GET":
            if name not in store:
                return _json(404, {"status": "NOT_FOUND", "message": f"Resource '{name}' not found."})
            return _json(200, {name: store[name]})
        if method == "PUT":
            if kind == "mapping" and name not in self.roles:
                return _json(404, {"status": "NOT_FOUND", "message": f"Role '{name}' is not available."})
            existed = name in store
            store[name] = _as_stored(kind, body)
            if existed:
                return _json(200, {"status": "OK", "message": f"'{name}' updated."})
            return _json(201, {"status": "CREATED", "message": f"'{name}' created."})
        return _json(405, {"error": {"reason": f"{method} not allowed"}, "status": 405})

    def puts(self) -> list[str]:
        return [path for method, path, _ in self.requests if method == "PUT"]


def _json(status: int, body: Any) -> tuple[int, str, bytes]:
    return status, "application/json; charset=UTF-8", json.dumps(body).encode()


def _as_stored(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a later GET echoes: the documented example responses' extra fields, filled in."""
    if kind == "role":
        return {
            "reserved": False,
            "hidden": False,
            "description": body.get("description", ""),
            "cluster_permissions": body.get("cluster_permissions", []),
            "index_permissions": [
                {"dls": "", "fls": [], "masked_fields": [], **p} for p in body.get("index_permissions", [])
            ],
            "tenant_permissions": body.get("tenant_permissions", []),
            "static": False,
        }
    return {
        "hosts": body.get("hosts", []),
        "users": body.get("users", []),
        "reserved": False,
        "hidden": False,
        "backend_roles": body.get("backend_roles", []),
        "and_backend_roles": body.get("and_backend_roles", []),
    }


@pytest.fixture
def plugin() -> Iterator[tuple[FakeSecurityPlugin, str]]:
    fake = FakeSecurityPlugin()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, content_type, data = fake.answer(
                self.command, self.path, json.loads(raw) if raw else None
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:  # keep pytest's output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def outputs_file(tmp_path: Path, endpoint: str, search_role: str | None = SEARCH) -> Path:
    """What `terraform output -json` prints for the keys the command reads (plus one it ignores)."""
    values = {
        "search_endpoint": endpoint,
        "region": "eu-west-1",
        "table_name": "cqrs-dev-table",
        "projector_role_arn": PROJECTOR,
        "projector_purge_role_arn": PURGE,
        "api_search_role_arn": search_role,
    }
    path = tmp_path / "outputs.json"
    path.write_text(
        json.dumps({k: {"value": v, "type": "string", "sensitive": False} for k, v in values.items()})
    )
    return path


def run_script(outputs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "search_access.py"), "--outputs-file", str(outputs), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )


def api_for(endpoint: str) -> SecurityApi:
    return SecurityApi(Transport(endpoint, auth="none", read_timeout=5.0), timeout=5.0)


# ------------------------------------------------------------------------------------------ least privilege


def test_the_roles_are_least_privilege_and_named_from_the_index_definitions() -> None:
    writer, purger, reader = desired_roles(INDEX_FAMILIES.values(), ROLES)

    assert writer.name == "projector_writer" and writer.backend_roles == (PROJECTOR,)
    assert writer.cluster_permissions == ("indices:data/write/bulk",)
    assert [(list(p.index_patterns), list(p.allowed_actions)) for p in writer.index_permissions] == [
        (
            ENTITY_INDICES,
            ["indices:data/write/bulk*", "indices:data/write/index", "indices:data/write/delete"],
        ),
        (WRITE_ALIASES + ENTITY_INDICES, ["indices:admin/aliases/get"]),
    ]

    assert purger.name == "tombstone_purger" and purger.backend_roles == (PURGE,)
    assert {pattern for p in purger.index_permissions for pattern in p.index_patterns} == set(
        ENTITY_INDICES + WRITE_ALIASES
    )
    purge_actions = {action for p in purger.index_permissions for action in p.allowed_actions}
    assert {"indices:data/write/delete/byquery", "indices:admin/refresh*"} <= purge_actions
    assert "indices:data/write/index" not in purge_actions  # it deletes, it never writes documents

    assert reader.name == "search_reader" and reader.backend_roles == (SEARCH,)
    assert reader.cluster_permissions == ()
    assert [(list(p.index_patterns), list(p.allowed_actions)) for p in reader.index_permissions] == [
        (READ_ALIASES, ["indices:data/read/search*"])
    ]
    # No wildcard or broad action group anywhere (`*`, `crud`, `write`, `read`, `indices_all`).
    for role in (writer, purger, reader):
        every = [*role.cluster_permissions, *(a for p in role.index_permissions for a in p.allowed_actions)]
        assert not {"*", "crud", "write", "read", "indices_all", "cluster_all"} & set(every), role.name
        assert all(pattern != "*" for p in role.index_permissions for pattern in p.index_patterns), role.name


def test_an_index_prefix_prefixes_roles_indices_and_aliases() -> None:
    writer, _, reader = desired_roles(INDEX_FAMILIES.values(), ROLES, prefix="blue-")
    assert writer.name == "blue-projector_writer"
    assert writer.index_permissions[0].index_patterns == ("blue-listings-v*", "blue-reviews-v*")
    assert reader.index_permissions[0].index_patterns == ("blue-listings", "blue-reviews")


# ------------------------------------------------------------------------------------------ idempotency


def test_first_run_creates_second_run_only_reads(
    plugin: tuple[FakeSecurityPlugin, str], tmp_path: Path
) -> None:
    fake, endpoint = plugin
    outputs = outputs_file(tmp_path, endpoint)

    first = run_script(outputs)

    assert first.returncode == 0, first.stderr
    assert fake.puts() == [
        f"{ROLES_API}projector_writer",
        f"{ROLES_API}tombstone_purger",
        f"{ROLES_API}search_reader",
        f"{MAPPINGS_API}projector_writer",
        f"{MAPPINGS_API}tombstone_purger",
        f"{MAPPINGS_API}search_reader",
    ]
    assert "role projector_writer: created" in first.stdout
    assert first.stdout.strip().endswith("6 created, 0 updated, 0 unchanged, 0 skipped")
    put_mapping = next(
        b for m, p, b in fake.requests if m == "PUT" and p == f"{MAPPINGS_API}projector_writer"
    )
    assert put_mapping == {"backend_roles": [PROJECTOR], "hosts": [], "users": []}
    put_role = next(b for m, p, b in fake.requests if m == "PUT" and p == f"{ROLES_API}search_reader")
    assert put_role["index_permissions"] == [
        {"index_patterns": READ_ALIASES, "allowed_actions": ["indices:data/read/search*"]}
    ]

    fake.requests.clear()
    second = run_script(outputs, "--json")

    assert second.returncode == 0, second.stderr
    assert fake.puts() == []
    assert {method for method, _, _ in fake.requests} == {"GET"}
    report = json.loads(second.stdout)
    assert report["counts"] == {"created": 0, "updated": 0, "unchanged": 6, "skipped": 0}


def test_only_what_drifted_is_written(plugin: tuple[FakeSecurityPlugin, str]) -> None:
    fake, endpoint = plugin
    specs = desired_roles(INDEX_FAMILIES.values(), ROLES)
    apply(api_for(endpoint), specs)
    # By hand: someone widened the reader and mapped another role to the writer.
    fake.roles["search_reader"]["index_permissions"][0]["allowed_actions"] = ["read"]
    fake.mappings["projector_writer"]["backend_roles"].append(f"arn:aws:iam::{ACCOUNT}:role/someone")
    fake.requests.clear()

    report = apply(api_for(endpoint), specs)

    assert fake.puts() == [f"{ROLES_API}search_reader", f"{MAPPINGS_API}projector_writer"]
    assert report.counts() == {"created": 0, "updated": 2, "unchanged": 4, "skipped": 0}
    assert fake.mappings["projector_writer"]["backend_roles"] == [PROJECTOR]
    assert fake.roles["search_reader"]["index_permissions"][0]["allowed_actions"] == [
        "indices:data/read/search*"
    ]


def test_order_of_lists_is_not_drift(plugin: tuple[FakeSecurityPlugin, str]) -> None:
    fake, endpoint = plugin
    specs = desired_roles(INDEX_FAMILIES.values(), ROLES)
    apply(api_for(endpoint), specs)
    for role in fake.roles.values():
        role["index_permissions"].reverse()
        for permission in role["index_permissions"]:
            permission["index_patterns"].reverse()
    fake.requests.clear()

    assert apply(api_for(endpoint), specs).counts()["unchanged"] == 6
    assert fake.puts() == []


def test_dry_run_changes_nothing_and_exits_1_while_changes_are_pending(
    plugin: tuple[FakeSecurityPlugin, str], tmp_path: Path
) -> None:
    fake, endpoint = plugin
    outputs = outputs_file(tmp_path, endpoint)

    pending = run_script(outputs, "--dry-run")

    assert pending.returncode == 1, pending.stderr
    assert fake.puts() == [] and fake.roles == {} and fake.mappings == {}
    assert "role projector_writer: would be created" in pending.stdout

    apply(api_for(endpoint), desired_roles(INDEX_FAMILIES.values(), ROLES))
    clean = run_script(outputs, "--dry-run")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_a_stack_without_a_search_role_skips_that_mapping(plugin: tuple[FakeSecurityPlugin, str]) -> None:
    fake, endpoint = plugin
    report = apply(
        api_for(endpoint), desired_roles(INDEX_FAMILIES.values(), StackRoles(PROJECTOR, PURGE, None))
    )

    assert "search_reader" in fake.roles and "search_reader" not in fake.mappings
    assert report.counts() == {"created": 5, "updated": 0, "unchanged": 0, "skipped": 1}


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("forbidden", SecurityApiDenied),
        ("html", SecurityApiAnswerError),
        ("wrong-shape", SecurityApiAnswerError),
    ],
)
def test_bad_answers_raise_typed_errors(
    plugin: tuple[FakeSecurityPlugin, str], mode: str, error: type[Exception]
) -> None:
    fake, endpoint = plugin
    fake.mode = mode
    with pytest.raises(error):
        apply(api_for(endpoint), desired_roles(INDEX_FAMILIES.values(), ROLES))
    assert fake.puts() == []  # it stops at the first answer it cannot use


def test_a_reserved_role_is_not_taken_over(plugin: tuple[FakeSecurityPlugin, str]) -> None:
    fake, endpoint = plugin
    fake.roles["projector_writer"] = {**_as_stored("role", {}), "reserved": True}
    with pytest.raises(SecurityApiAnswerError, match="reserved"):
        apply(api_for(endpoint), desired_roles(INDEX_FAMILIES.values(), ROLES))
    assert fake.puts() == []


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("forbidden", "SecurityApiDenied: GET /_plugins/_security/api/roles/projector_writer: HTTP 403"),
        (
            "html",
            "SecurityApiAnswerError: GET /_plugins/_security/api/roles/projector_writer: HTTP 200, not JSON",
        ),
    ],
)
def test_the_command_reports_errors_with_exit_code_2(
    plugin: tuple[FakeSecurityPlugin, str], tmp_path: Path, mode: str, message: str
) -> None:
    fake, endpoint = plugin
    fake.mode = mode
    result = run_script(outputs_file(tmp_path, endpoint))
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr


def test_an_unreachable_domain_is_exit_code_2(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_script(outputs_file(tmp_path, f"http://127.0.0.1:{port}"), "--timeout", "2")
    assert result.returncode == 2
    assert result.stderr.startswith("SecurityApiUnreachable: GET /_plugins/_security/api/roles/"), (
        result.stderr
    )


def test_unreachable_is_typed_in_the_library() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SecurityApiUnreachable):
        apply(api_for(f"http://127.0.0.1:{port}"), desired_roles(INDEX_FAMILIES.values(), ROLES))


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"search_endpoint": "https://abc.eu-west-1.aoss.amazonaws.com", "region": "eu-west-1",
          "projector_role_arn": PROJECTOR},
         "StackConfigError: a Serverless collection has no security plugin"),
        ({"search_endpoint": "https://search-x.eu-west-1.es.amazonaws.com", "region": "eu-west-1"},
         "StackConfigError: the Terraform outputs lack projector_role_arn"),
    ],
)  # fmt: skip
def test_outputs_it_cannot_use_are_exit_code_2(tmp_path: Path, outputs: dict[str, Any], message: str) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({key: {"value": value} for key, value in outputs.items()}))
    result = run_script(path)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_reads_the_roles_from_a_terraform_directory(
    plugin: tuple[FakeSecurityPlugin, str], tmp_path: Path
) -> None:
    """--terraform-dir runs `terraform output -json`: a root module with only outputs, applied for real
    (no provider), stands in for a deployed stack."""
    fake, endpoint = plugin
    outputs = {k: v["value"] for k, v in json.loads(outputs_file(tmp_path, endpoint).read_text()).items()}
    (tmp_path / "main.tf").write_text(
        "".join(f'output "{key}" {{\n  value = {json.dumps(value)}\n}}\n' for key, value in outputs.items())
    )
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *command], cwd=tmp_path, check=True, capture_output=True, timeout=120)

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "search_access.py"), "--terraform-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert fake.mappings["search_reader"]["backend_roles"] == [SEARCH]
    assert fake.mappings["tombstone_purger"]["backend_roles"] == [PURGE]
