"""A Lambda context for handlers the tests invoke in-process."""

from __future__ import annotations

from stackclient.lambda_context import LambdaContext


def lambda_context(remaining_ms: int = 60_000, function_name: str = "projector-test") -> LambdaContext:
    """The context Lambda would pass with `remaining_ms` left: the clock runs from now, as in Lambda."""
    return LambdaContext(function_name, timeout_s=remaining_ms / 1000)
