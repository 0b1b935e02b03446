"""Search access as code: the fine-grained access control roles and role mappings of a stack's domain.

An OpenSearch Service domain with fine-grained access control checks two things: its IAM access policy
(Terraform, ``modules/search``) lets a signed request reach a path, then the security plugin maps the
caller's IAM role (a *backend role*) to OpenSearch roles that allow the underlying actions on named
indices. The second half lives in the domain, not in AWS's API, so Terraform's aws provider cannot
manage it; this module does, through the security plugin's documented REST API:

* ``GET|PUT /_plugins/_security/api/roles/<role>``: ``{"cluster_permissions": [...],
  "index_permissions": [{"index_patterns": [...], "allowed_actions": [...]}], ...}``;
* ``GET|PUT /_plugins/_security/api/rolesmapping/<role>``: ``{"backend_roles": [...], "hosts": [...],
  "users": [...]}``.

A GET answers ``{"<role>": {...}}`` (200) or 404; a PUT answers ``{"status": "CREATED"|"OK", "message":
...}`` (201 or 200). :func:`apply` reads each role and mapping, compares it with what it should be, and
PUTs only what differs, so a second run changes nothing. The command owns its three roles and their
mappings whole: a backend role added by hand to one of them is removed (reported as ``updated``).

Least privilege, from ``terraform/definitions/indices.json`` (the one source of index and alias names):

* ``projector_writer`` (the projector's role): ``_bulk`` index and delete actions on the entity indices
  only, and the alias lookup of its write aliases;
* ``tombstone_purger`` (the purge's role): ``_delete_by_query`` on the entity indices (with the search,
  scroll and bulk actions it runs internally) and the refresh it asks for, plus the alias lookup;
* ``search_reader`` (the AppSync search data source's role): searches through the read aliases, which
  are filtered (tombstones never show): it is granted nothing on the concrete indices.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from ops.errors import SecurityApiAnswerError, SecurityApiDenied, SecurityApiUnreachable
from projector.exceptions import TransportError
from projector.names import IndexFamily
from projector.transport import Response
from stackclient.errors import StackConfigError, StackNotFoundError
from stackclient.stack import terraform_output_values, terraform_outputs_to_values

ROLES_API = "/_plugins/_security/api/roles/"
MAPPINGS_API = "/_plugins/_security/api/rolesmapping/"

Action = Literal["created", "updated", "unchanged", "skipped"]
Kind = Literal["role", "mapping"]


class Requests(Protocol):
    """What :func:`apply` needs of an HTTP client (``projector.transport.Transport`` is one)."""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        timeout: float | None = None,
        content_type: str = "application/json",
    ) -> Response: ...


@dataclass(frozen=True)
class IndexPermission:
    index_patterns: tuple[str, ...]
    allowed_actions: tuple[str, ...]


@dataclass(frozen=True)
class RoleSpec:
    """One OpenSearch role and the IAM roles (backend roles) mapped to it."""

    name: str
    description: str
    cluster_permissions: tuple[str, ...]
    index_permissions: tuple[IndexPermission, ...]
    backend_roles: tuple[str, ...]
    """IAM role ARNs; empty means the stack has no such role (the mapping is skipped, not emptied)."""

    def role_body(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "cluster_permissions": list(self.cluster_permissions),
            "index_permissions": [
                {"index_patterns": list(p.index_patterns), "allowed_actions": list(p.allowed_actions)}
                for p in self.index_permissions
            ],
            "tenant_permissions": [],
        }

    def mapping_body(self) -> dict[str, Any]:
        return {"backend_roles": list(self.backend_roles), "hosts": [], "users": []}


@dataclass(frozen=True)
class StackRoles:
    """The IAM roles of a stack that need a mapping (Terraform root outputs)."""

    projector: str
    purge: str | None
    search: str | None


@dataclass(frozen=True)
class Change:
    kind: Kind
    name: str
    action: Action
    detail: str = ""

    def line(self, dry_run: bool) -> str:
        verb = f"would be {self.action}" if dry_run and self.action in ("created", "updated") else self.action
        return f"{self.kind} {self.name}: {verb}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Report:
    dry_run: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return any(change.action in ("created", "updated") for change in self.changes)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "skipped"), 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "changes": [
                {"kind": c.kind, "name": c.name, "action": c.action, "detail": c.detail} for c in self.changes
            ],
        }


# ---------------------------------------------------------------------------------------------- the roles

# _bulk is checked at cluster level and per index (docs: "Need to configure as both cluster level and
# index level permission"); the projector's actions are `index` and `delete` (projector/bulk.py).
_BULK = "indices:data/write/bulk"
_ALIAS_LOOKUP = "indices:admin/aliases/get"


def desired_roles(families: Iterable[IndexFamily], roles: StackRoles, prefix: str = "") -> list[RoleSpec]:
    """The three roles of a stack. ``prefix`` is the projector's INDEX_PREFIX: it prefixes every index and
    alias name, and the role names, so two stacks sharing one domain keep apart."""
    families = list(families)
    indices = tuple(f"{prefix}{f.index_prefix}*" for f in families)
    write_aliases = tuple(f"{prefix}{f.write_alias}" for f in families)
    read_aliases = tuple(f"{prefix}{f.read_alias}" for f in families)
    alias_lookup = IndexPermission(write_aliases + indices, (_ALIAS_LOOKUP,))
    return [
        RoleSpec(
            f"{prefix}projector_writer",
            "appsync-cqrs projector: _bulk index/delete on the entity indices, write alias lookups",
            (_BULK,),
            (
                IndexPermission(
                    indices, (f"{_BULK}*", "indices:data/write/index", "indices:data/write/delete")
                ),
                alias_lookup,
            ),
            (roles.projector,),
        ),
        RoleSpec(
            f"{prefix}tombstone_purger",
            "appsync-cqrs tombstone purge: _delete_by_query and refresh on the entity indices",
            # _delete_by_query scrolls a search and deletes through bulk requests of its own.
            (_BULK, "indices:data/read/scroll", "indices:data/read/scroll/clear"),
            (
                IndexPermission(
                    indices,
                    (
                        "indices:data/write/delete/byquery",
                        "indices:data/read/search*",
                        f"{_BULK}*",
                        "indices:data/write/delete",
                        "indices:admin/refresh*",
                    ),
                ),
                alias_lookup,
            ),
            (roles.purge,) if roles.purge else (),
        ),
        RoleSpec(
            f"{prefix}search_reader",
            "appsync-cqrs API search data source: search and count through the read aliases only",
            (),
            (IndexPermission(read_aliases, ("indices:data/read/search*",)),),
            (roles.search,) if roles.search else (),
        ),
    ]


# ---------------------------------------------------------------------------------------------- comparing


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SecurityApiAnswerError(f"{what} is not a list of strings: {value!r}")
    return tuple(sorted(set(value)))


def _role_state(body: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    """What decides whether a role matches, order-insensitive; unset fields as the plugin defaults them."""
    permissions = body.get("index_permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, Mapping) for p in permissions):
        raise SecurityApiAnswerError(f"role {name}: index_permissions is not a list of objects")
    index = sorted(
        (
            _strings(p.get("index_patterns"), f"role {name}: index_patterns"),
            _strings(p.get("allowed_actions"), f"role {name}: allowed_actions"),
            p.get("dls") or "",
            _strings(p.get("fls"), f"role {name}: fls"),
            _strings(p.get("masked_fields"), f"role {name}: masked_fields"),
        )
        for p in permissions
    )
    tenants = body.get("tenant_permissions") or []
    if not isinstance(tenants, list):
        raise SecurityApiAnswerError(f"role {name}: tenant_permissions is not a list")
    return (
        _strings(body.get("cluster_permissions"), f"role {name}: cluster_permissions"),
        index,
        len(tenants),
    )  # the description is written but not compared: what a GET echoes of it is not documented


def _mapping_state(body: Mapping[str, Any], name: str) -> tuple[tuple[str, ...], ...]:
    return tuple(
        _strings(body.get(key), f"mapping {name}: {key}")
        for key in ("backend_roles", "and_backend_roles", "hosts", "users")
    )


# ---------------------------------------------------------------------------------------------- the API


class SecurityApi:
    """The two resources of the security plugin's REST API this command uses, with typed errors."""

    def __init__(self, transport: Requests, timeout: float = 30.0) -> None:
        self.transport = transport
        self.timeout = timeout

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        try:
            response = self.transport.request(method, path, data, timeout=self.timeout)
        except TransportError as exc:
            raise SecurityApiUnreachable(f"{method} {path}: {exc}") from exc
        if response.status in (401, 403):
            raise SecurityApiDenied(
                f"{method} {path}: HTTP {response.status}: {_reason(response)} (run this as the domain's "
                "fine-grained access control master: the search.master_user_arn role)"
            )
        return response

    def get(self, path: str, name: str) -> dict[str, Any] | None:
        """The resource's object, or None when the plugin answers 404 (it does not exist)."""
        response = self._send("GET", path + quote(name, safe=""))
        if response.status == 404:
            return None
        answer = _json(response, f"GET {path}{name}")
        if response.status != 200:
            raise SecurityApiAnswerError(f"GET {path}{name}: HTTP {response.status}: {_reason(response)}")
        resource = answer.get(name) if isinstance(answer, dict) else None
        if not isinstance(resource, dict):
            raise SecurityApiAnswerError(
                f"GET {path}{name}: expected {{{name!r}: {{...}}}}, got {answer!r:.200}"
            )
        if resource.get("reserved") or resource.get("static") or resource.get("hidden"):
            raise SecurityApiAnswerError(
                f"{path}{name} is reserved, static or hidden: only the domain's configuration may change it; "
                "choose another --index-prefix"
            )
        return resource

    def put(self, path: str, name: str, body: Mapping[str, Any]) -> None:
        response = self._send("PUT", path + quote(name, safe=""), body)
        answer = _json(response, f"PUT {path}{name}")
        status = answer.get("status") if isinstance(answer, dict) else None
        if response.status not in (200, 201) or status not in ("OK", "CREATED"):
            raise SecurityApiAnswerError(f"PUT {path}{name}: HTTP {response.status}: {_reason(response)}")


def _json(response: Response, what: str) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SecurityApiAnswerError(
            f"{what}: HTTP {response.status}, not JSON: {response.body[:200]!r}"
        ) from exc


def _reason(response: Response) -> str:
    try:
        answer = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return repr(response.body[:200])
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict):
            return str(error.get("reason") or error)
        return str(answer.get("message") or error or answer)
    return repr(answer)[:200]


def apply(api: SecurityApi, specs: Sequence[RoleSpec], dry_run: bool = False) -> Report:
    """Bring every role, then its mapping, to its spec; PUT only what differs (none at all with dry_run).

    Roles come first: the plugin refuses a mapping for a role that does not exist.
    """
    report = Report(dry_run)
    for spec in specs:
        current = api.get(ROLES_API, spec.name)
        wanted = spec.role_body()
        if current is not None and _role_state(current, spec.name) == _role_state(wanted, spec.name):
            report.changes.append(Change("role", spec.name, "unchanged"))
        else:
            if not dry_run:
                api.put(ROLES_API, spec.name, wanted)
            report.changes.append(Change("role", spec.name, "created" if current is None else "updated"))
    for spec in specs:
        if not spec.backend_roles:
            report.changes.append(Change("mapping", spec.name, "skipped", "the stack has no such IAM role"))
            continue
        current = api.get(MAPPINGS_API, spec.name)
        wanted = spec.mapping_body()
        detail = ", ".join(spec.backend_roles)
        if current is not None and _mapping_state(current, spec.name) == _mapping_state(wanted, spec.name):
            report.changes.append(Change("mapping", spec.name, "unchanged", detail))
        else:
            if not dry_run:
                api.put(MAPPINGS_API, spec.name, wanted)
            action: Action = "created" if current is None else "updated"
            report.changes.append(Change("mapping", spec.name, action, detail))
    return report


def stack_roles(outputs: Mapping[str, Any]) -> StackRoles:
    """The IAM role ARNs among a stack's Terraform root outputs (terraform/outputs.tf)."""
    projector = outputs.get("projector_role_arn")
    if not isinstance(projector, str) or not projector.startswith("arn:"):
        raise StackConfigError("the Terraform outputs lack projector_role_arn: has the stack been applied?")

    def optional(key: str) -> str | None:
        value = outputs.get(key)
        if value is not None and (not isinstance(value, str) or not value.startswith("arn:")):
            raise StackConfigError(f"Terraform output {key} is not an ARN: {value!r}")
        return value

    return StackRoles(projector, optional("projector_purge_role_arn"), optional("api_search_role_arn"))


def load_outputs(terraform_dir: str | None = None, outputs_file: str | None = None) -> dict[str, Any]:
    """A stack's root outputs as `{name: value}`: from `terraform output -json` run in ``terraform_dir``,
    or from a file holding what that command printed (a pipeline saves it once after apply)."""
    if outputs_file is None:
        if terraform_dir is None:
            raise StackConfigError("give a Terraform directory or an outputs file")
        return terraform_output_values(terraform_dir)
    try:
        raw = json.loads(Path(outputs_file).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StackNotFoundError(f"{outputs_file} does not exist") from exc
    except ValueError as exc:
        raise StackConfigError(f"{outputs_file} is not JSON: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise StackConfigError(f"{outputs_file} must hold `terraform output -json`'s object")
    return terraform_outputs_to_values(raw)
