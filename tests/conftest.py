"""Fixtures shared by every suite: real local servers, started once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.servers import ChildServer, start_moto, start_osmem
from stackclient.stack import LOCAL_AWS_ENV


@pytest.fixture(scope="session", autouse=True)
def local_aws_env() -> Iterator[None]:
    """Fake credentials and a region, so no test can ever reach a real AWS account."""
    saved = {key: os.environ.get(key) for key in LOCAL_AWS_ENV}
    os.environ.update(LOCAL_AWS_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto_server() -> Iterator[ChildServer]:
    """moto in server mode: DynamoDB, Streams and SQS over real HTTP."""
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def osmem() -> Iterator[ChildServer]:
    """osmem: an in-memory OpenSearch-compatible engine over real HTTP."""
    server = start_osmem()
    yield server
    server.stop()
