"""One alias lookup for the projector, its index command and ops: same path, same answers."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy.exceptions import NotFoundError

from ops.indices import alias_indices as ops_alias_indices
from projector.aliases import alias_indices, resolve_alias
from projector.exceptions import AliasMissingError, TransportError
from projector.indices import ensure_indices
from projector.transport import Response


class Recording:
    """Answers every alias lookup with ``alias_answer`` and everything else with 200; keeps the paths."""

    def __init__(self, alias_answer: Response) -> None:
        self.alias_answer = alias_answer
        self.paths: list[str] = []

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float | None = None
    ) -> Response:
        self.paths.append(path)
        return self.alias_answer if path.startswith("/_alias/") else Response(200, b"{}")


def test_the_alias_name_is_quoted_in_the_path() -> None:
    transport = Recording(Response(200, b'{"b-v2":{},"a-v1":{}}'))
    assert alias_indices(transport, "odd name/x") == ("a-v1", "b-v2")
    assert transport.paths == ["/_alias/odd%20name%2Fx"]


def test_the_index_command_uses_the_same_lookup() -> None:
    transport = Recording(Response(404, b""))
    ensure_indices(transport, prefix="a+")  # type: ignore[arg-type]
    lookups = [path for path in transport.paths if path.startswith("/_alias/")]
    assert lookups and all(path.startswith("/_alias/a%2B") for path in lookups), lookups


def test_missing_and_failing_lookups() -> None:
    assert alias_indices(Recording(Response(404, b"")), "gone") == ()
    with pytest.raises(AliasMissingError):
        resolve_alias(Recording(Response(404, b"")), "gone")
    with pytest.raises(AliasMissingError):
        resolve_alias(Recording(Response(200, b"{}")), "empty")
    with pytest.raises(TransportError, match="HTTP 500"):
        alias_indices(Recording(Response(500, b"boom")), "down")
    with pytest.raises(TransportError, match="unparseable"):
        alias_indices(Recording(Response(200, b"<html>")), "proxy")


def test_ops_reads_an_alias_through_the_same_lookup() -> None:
    class Client:
        """The part of an opensearch-py client the ops lookup touches."""

        def __init__(self, answers: dict[str, Any]) -> None:
            self.answers = answers
            self.paths: list[str] = []
            self.transport = self

        def perform_request(self, method: str, path: str) -> Any:
            self.paths.append(path)
            if path not in self.answers:
                raise NotFoundError(404, "alias_missing", {})
            return self.answers[path]

    client = Client({"/_alias/my%20alias": {"x-v2": {"aliases": {}}, "x-v1": {"aliases": {}}}})
    assert ops_alias_indices(client, "my alias") == ["x-v1", "x-v2"]  # type: ignore[arg-type]
    assert ops_alias_indices(client, "other") == []  # type: ignore[arg-type]
    assert client.paths == ["/_alias/my%20alias", "/_alias/other"]
