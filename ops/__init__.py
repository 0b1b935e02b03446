"""Operations on a running stack: backfill, reindex, reconcile and redrive the OpenSearch read model.

Each command is a thin CLI in `scripts/` over one module here; `stackclient.stack` finds a stack's
endpoints and builds its clients.
"""
