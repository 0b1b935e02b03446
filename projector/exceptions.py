"""Errors the projector raises.

Hierarchy::

    ProjectorError
    ├── ConfigError           bad or missing environment configuration (raised at cold start)
    ├── PoisonRecordError     a record that can never be projected: it goes to the dead-letter queue
    │   └── ConversionError   a DynamoDB attribute value that is not valid wire format
    ├── RetryableError        a record whose write did not land this time (reported in batchItemFailures)
    └── TransportError        OpenSearch could not be reached or answered with an unusable response
        └── AliasMissingError the write alias does not exist (run ``python -m projector.indices``)
"""

from __future__ import annotations


class ProjectorError(Exception):
    """Base class of every error the projector raises on purpose."""


class ConfigError(ProjectorError):
    """The environment configuration is invalid; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "invalid projector configuration: "
            + "; ".join(problems)
            + " (see projector/README.md#configuration)"
        )


class PoisonRecordError(ProjectorError):
    """A record that can never be projected as it is; ``code`` is a short machine-readable reason."""

    def __init__(self, code: str, reason: str, status: int | None = None) -> None:
        self.code = code
        self.reason = reason
        self.status = status
        super().__init__(f"{code}: {reason}")


class ConversionError(PoisonRecordError):
    """An attribute value that is not DynamoDB's typed JSON wire format."""

    def __init__(self, reason: str) -> None:
        super().__init__("invalid_attribute_value", reason)


class RetryableError(ProjectorError):
    """The record's write did not land in this invocation; Lambda retries it."""

    def __init__(self, code: str, reason: str, status: int | None = None) -> None:
        self.code = code
        self.reason = reason
        self.status = status
        super().__init__(f"{code}: {reason}")


class TransportError(ProjectorError):
    """OpenSearch could not be reached (connection error, timeout) or sent an unusable answer."""


class AliasMissingError(TransportError):
    """The write alias does not exist."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        super().__init__(
            f"write alias {alias!r} does not exist: create indices and aliases with "
            "`python -m projector.indices --endpoint URL`"
        )
