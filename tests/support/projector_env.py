"""The projector's environment for a test that runs its handler in-process."""

from __future__ import annotations

import pytest

from projector import handler


def projector_environment(
    search_endpoint: str, dead_letter_queue_url: str, index_prefix: str = "", **extra: str
) -> dict[str, str]:
    """The variables the projector reads (docs/design.md §5) for the local servers: unsigned requests to
    osmem, one metrics namespace for every suite; `extra` adds or replaces variables."""
    return {
        "OPENSEARCH_ENDPOINT": search_endpoint,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue_url,
        "INDEX_PREFIX": index_prefix,
        "POWERTOOLS_METRICS_NAMESPACE": "appsync-cqrs-tests",
        **extra,
    }


def configure_projector(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Set projector variables for this test and drop the handler's cached runtime, which was built from
    the variables of the previous test (a Lambda container builds it once, at its first invocation)."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    handler.reset()
