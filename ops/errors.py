"""Errors the operations commands raise.

Our exception hierarchy:

* OpsError                 — base: anything an ops command reports as ``Type: message`` and exit 2
  * CheckpointError        — a backfill checkpoint belongs to another table or is unreadable
  * ReindexError           — a reindex step's precondition or verification failed (nothing swapped)
  * DeadLetterError        — a dead-letter message cannot be understood
  * SearchAccessError      — the security plugin's REST API could not be used (ops/search_access.py)
    * SecurityApiDenied      — 401/403: the caller may not manage roles (not the access-control master)
    * SecurityApiUnreachable — no answer from the domain
    * SecurityApiAnswerError — an answer of the wrong shape or status, or a role the command may not own

Finding the stack is not an ops error: `stackclient.errors` holds those (the seed script and the local
stack find stacks too), and `ops.cli.run` reports them the same way.
"""

from __future__ import annotations


class OpsError(RuntimeError):
    """Base class for every error an ops command reports to its user."""


class CheckpointError(OpsError):
    """A backfill checkpoint file is unreadable or belongs to a different run."""


class ReindexError(OpsError):
    """A reindex precondition or verification failed; the read alias was not moved."""


class DeadLetterError(OpsError):
    """A dead-letter message is neither a projector poison message nor an on-failure record."""


class SearchAccessError(OpsError):
    """The fine-grained access control roles and mappings could not be read or written."""


class SecurityApiDenied(SearchAccessError):
    """The security plugin refused the caller (401/403): it is not the domain's access-control master."""


class SecurityApiUnreachable(SearchAccessError):
    """The domain did not answer (connection refused, timeout, DNS)."""


class SecurityApiAnswerError(SearchAccessError):
    """An answer the command cannot use: unexpected status, not JSON, not the documented shape, or a
    reserved/static role or mapping that only the domain's own configuration may change."""
