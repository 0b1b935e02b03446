"""The smoke test of a stack: a canary listing written through the API, followed into search and back out.

Steps, each printed on one line with its time (``scripts/smoke.py`` is the command):

| step      | what                                                                                     |
| --------- | ---------------------------------------------------------------------------------------- |
| cleanup   | delete the canary a failed earlier run left behind, if any                               |
| create    | ``createListing`` of the canary (fixed id, reserved owner) as a backend (IAM)            |
| visible   | ``searchListings`` shows it at the version the create returned                          |
| update    | ``updateListing`` with the version just seen                                             |
| updated   | search shows the new version and title                                                   |
| delete    | ``deleteListing``                                                                        |
| gone      | search no longer shows it                                                                |
| reconcile | the canary's key in the table against every index behind the write alias: no drift      |

Every wait is bounded (`timeout_s`, 60 s by default). A failed run stops at the failing step and leaves
the canary where it is, for whoever investigates; the next run's ``cleanup`` removes it. The canary
has one fixed id per stack, so runs against one stack must not overlap (a pipeline runs them in turn).

Exit codes: 0 every step passed; 1 a step failed (the stack answered wrongly or too late); 2 the test
could not run (the stack or its endpoint could not be reached).

This module knows no transport: it takes any GraphQL client with ``execute(query, variables) -> data``,
and is told which of that client's errors mean "unreachable" (exit 2) and which mean "answered wrongly"
(exit 1).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from ops.reconcile import KeyCheck

RESERVED_OWNER = "appsync-cqrs-smoke"
"""No user has this owner: listings under it are canaries."""
CANARY_ID = "smoke-canary"
EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2

LISTING = "id version title owner"
GET = f"query SmokeGet($id: ID!) {{ getListing(id: $id) {{ {LISTING} }} }}"
CREATE = (
    f"mutation SmokeCreate($input: CreateListingInput!) {{ createListing(input: $input) {{ {LISTING} }} }}"
)
UPDATE = (
    f"mutation SmokeUpdate($input: UpdateListingInput!) {{ updateListing(input: $input) {{ {LISTING} }} }}"
)
DELETE = (
    f"mutation SmokeDelete($input: DeleteListingInput!) {{ deleteListing(input: $input) {{ {LISTING} }} }}"
)
SEARCH = f"""
query SmokeSearch($owner: String!) {{
  searchListings(filter: {{owner: $owner}}, limit: 100) {{ items {{ {LISTING} }} }}
}}
"""


class GraphQLApi(Protocol):
    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


class StepFailed(Exception):
    """A step's check did not hold (exit 1)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    ok: bool
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{self.step:<9} {'ok' if self.ok else 'FAIL':<4} {self.seconds:6.2f} s  {self.detail}"


@dataclass
class SmokeReport:
    steps: list[StepResult] = field(default_factory=list)
    exit_code: int = EXIT_OK

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def summary(self) -> str:
        if self.exit_code == EXIT_OK:
            return f"smoke passed: {len(self.steps)} steps in {self.seconds:.2f} s"
        failed = self.steps[-1].step if self.steps else "start"
        verdict = "failed" if self.exit_code == EXIT_FAILED else "could not run"
        return f"smoke {verdict} at step {failed} after {self.seconds:.2f} s"

    def as_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "steps": [
                {"step": s.step, "ok": s.ok, "seconds": round(s.seconds, 3), "detail": s.detail}
                for s in self.steps
            ],
        }


@dataclass
class SmokeTest:
    """One run against one stack; :meth:`run` returns the report (it also prints each step as it ends)."""

    api: GraphQLApi
    check_key: Callable[[str], list[str]]
    """Reconcile one listing id by key; the drift it finds, as sentences ([] when none)."""
    unreachable: tuple[type[BaseException], ...]
    """Errors that mean the stack could not be reached (exit 2)."""
    failures: tuple[type[BaseException], ...]
    """Errors that mean the stack answered wrongly (exit 1), besides a failed check."""
    timeout_s: float = 60.0
    out: TextIO = sys.stdout
    canary_id: str = CANARY_ID
    owner: str = RESERVED_OWNER
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    last_seen: str = field(default="", init=False)

    def run(self) -> SmokeReport:
        report = SmokeReport()
        token = secrets.token_hex(4)  # this run's mark in the title: search must show this run's writes
        version: dict[str, str] = {}
        steps: list[tuple[str, Callable[[], str]]] = [
            ("cleanup", self._cleanup),
            ("create", lambda: self._create(token, version)),
            ("visible", lambda: self._await_shown(version["created"], f"smoke canary {token}")),
            ("update", lambda: self._update(token, version)),
            ("updated", lambda: self._await_shown(version["updated"], f"smoke canary {token} updated")),
            ("delete", lambda: self._delete(version["updated"])),
            ("gone", self._await_gone),
            ("reconcile", self._reconcile),
        ]
        for name, step in steps:
            started = self.clock()
            try:
                detail, ok, code = step(), True, EXIT_OK
            except self.unreachable as error:
                detail, ok, code = f"{type(error).__name__}: {error}", False, EXIT_CANNOT_RUN
            except StepFailed as error:
                detail, ok, code = str(error), False, EXIT_FAILED
            except self.failures as error:
                detail, ok, code = f"{type(error).__name__}: {error}", False, EXIT_FAILED
            result = StepResult(name, ok, self.clock() - started, detail)
            report.steps.append(result)
            print(result.line(), file=self.out, flush=True)
            if not ok:
                report.exit_code = code
                break
        print(report.summary(), file=self.out, flush=True)
        return report

    # ---------------------------------------------------------------------------------------------- steps

    def _cleanup(self) -> str:
        leftover = self.api.execute(GET, {"id": self.canary_id}).get("getListing")
        if not leftover:
            return "no leftover canary"
        if leftover.get("owner") != self.owner:
            raise StepFailed(
                f"listing {self.canary_id} belongs to {leftover.get('owner')!r}, not the reserved owner "
                f"{self.owner!r}: not touching it"
            )
        self._delete(leftover["version"])
        return f"removed a leftover canary (version {leftover['version']})"

    def _create(self, token: str, version: dict[str, str]) -> str:
        listing = {
            "id": self.canary_id,
            "title": f"smoke canary {token}",
            "description": "Written and removed by scripts/smoke.py.",
            "category": "OFFICE",
            "price": 1,
            "currency": "EUR",
            "location": {"lat": 0.0, "lon": 0.0},
            "city": "Smoke",
            "status": "PAUSED",  # never offered as available, should a user's search come across it
            "owner": self.owner,
        }
        created = self.api.execute(CREATE, {"input": listing})["createListing"]
        version["created"] = str(created["version"])
        return f"{self.canary_id} version {version['created']}"

    def _update(self, token: str, version: dict[str, str]) -> str:
        changes = {"id": self.canary_id, "expectedVersion": version["created"],
                   "title": f"smoke canary {token} updated", "price": 2}  # fmt: skip
        updated = self.api.execute(UPDATE, {"input": changes})["updateListing"]
        version["updated"] = str(updated["version"])
        if int(version["updated"]) <= int(version["created"]):
            raise StepFailed(
                f"the update returned version {version['updated']}, not above {version['created']}"
            )
        return f"{self.canary_id} version {version['updated']}"

    def _delete(self, expected_version: str) -> str:
        self.api.execute(DELETE, {"input": {"id": self.canary_id, "expectedVersion": expected_version}})
        return f"{self.canary_id} deleted at version {expected_version}"

    def _search(self) -> dict[str, Any] | None:
        """The canary as search shows it now (None when absent); what it saw goes into a failure's text."""
        items = self.api.execute(SEARCH, {"owner": self.owner})["searchListings"]["items"]
        found = next((item for item in items if item["id"] == self.canary_id), None)
        self.last_seen = (
            "absent" if found is None else f"version {found['version']}, title {found['title']!r}"
        )
        return found

    def _await(self, check: Callable[[], bool], what: str) -> None:
        """Poll `check` until it holds or `timeout_s` passes; errors of the stack count as 'not yet'."""
        deadline = self.clock() + self.timeout_s
        delay = 0.2
        self.last_seen = "nothing yet"
        while True:
            try:
                if check():
                    return
            except self.unreachable:
                raise
            except self.failures as error:  # e.g. search briefly unavailable: try again until the deadline
                self.last_seen = f"{type(error).__name__}: {error}"
            if self.clock() + delay > deadline:
                raise StepFailed(f"{what} (waited {self.timeout_s:g} s; last seen: {self.last_seen})")
            self.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def _await_shown(self, version: str, title: str) -> str:
        def shown() -> bool:
            found = self._search()
            return found is not None and str(found["version"]) == version and found["title"] == title

        self._await(shown, f"search did not show {self.canary_id} at version {version}")
        return f"search shows version {version}"

    def _await_gone(self) -> str:
        self._await(lambda: self._search() is None, f"search still showed {self.canary_id}")
        return "search no longer shows it"

    def _reconcile(self) -> str:
        drift = self.check_key(self.canary_id)
        if drift:
            raise StepFailed("; ".join(drift))
        return f"no drift for LISTING#{self.canary_id}"


def describe_drift(checks: list[KeyCheck]) -> list[str]:
    """Sentences for the drifted entries of :func:`ops.reconcile.reconcile_key`'s result."""
    return [
        f"{check.index}: {check.kind} (table version {check.table_version}, "
        f"index version {check.index_version}{', tombstone' if check.tombstone else ''})"
        for check in checks
        if check.kind is not None
    ]


def print_json(report: SmokeReport, out: TextIO = sys.stdout) -> None:
    print(json.dumps(report.as_json(), indent=2), file=out)
