"""Operations on a running stack: backfill, reindex, reconcile, redrive and the smoke test; and what deploys.

Each command is a thin CLI in `scripts/` over one module here; `stackclient.stack` finds a stack's
endpoints and builds its clients.
`ops.artifact` builds and checks the projector's zip for its Lambda target, and `ops.locks` checks the
dependency locks it is built from (standard library only: `make install` runs it before a venv exists).
"""
