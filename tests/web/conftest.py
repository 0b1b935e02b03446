"""Fixtures for the web example's browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import PageServer, build_page


@pytest.fixture(scope="session")
def web_dist() -> Path:
    return build_page()


@pytest.fixture(scope="session")
def page_server(web_dist: Path) -> Iterator[PageServer]:
    server = PageServer(web_dist)
    yield server
    server.stop()
