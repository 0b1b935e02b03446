"""What the test suites share: listing and review items, a Lambda context, tables made from the shared
definition, and the projector's environment.

Each suite keeps its own world around these (tests/projector/projector_testkit.py, tests/ops/opshelpers.py).
Tests import it as `support` (pyproject.toml puts tests/ on pytest's and mypy's paths).
"""
