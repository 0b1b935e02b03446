"""Errors the operations commands raise.

Our exception hierarchy:

* OpsError                 — base: anything an ops command reports as ``Type: message`` and exit 1
  * StackNotFoundError     — no `.dev/stack.json` / Terraform outputs where we were told to look
  * StackConfigError       — a stack description lacks a key or holds a malformed value
  * CheckpointError        — a backfill checkpoint belongs to another table or is unreadable
  * ReindexError           — a reindex step's precondition or verification failed (nothing swapped)
  * DeadLetterError        — a dead-letter message cannot be understood
"""

from __future__ import annotations


class OpsError(RuntimeError):
    """Base class for every error an ops command reports to its user."""


class StackNotFoundError(OpsError):
    """No stack description where we were told to look."""


class StackConfigError(OpsError):
    """A stack description lacks a required key or holds a malformed value."""


class CheckpointError(OpsError):
    """A backfill checkpoint file is unreadable or belongs to a different run."""


class ReindexError(OpsError):
    """A reindex precondition or verification failed; the read alias was not moved."""


class DeadLetterError(OpsError):
    """A dead-letter message is neither a projector poison message nor an on-failure record."""
