"""Errors the operations commands raise.

Our exception hierarchy:

* OpsError                 — base: anything an ops command reports as ``Type: message`` and exit 2
  * CheckpointError        — a backfill checkpoint belongs to another table or is unreadable
  * ReindexError           — a reindex step's precondition or verification failed (nothing swapped)
  * DeadLetterError        — a dead-letter message cannot be understood

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
