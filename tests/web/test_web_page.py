"""The web example's failure paths in headless Chromium, with no stack: bad config, API down."""

from __future__ import annotations

from web_support import PageServer, run_browser_test


def test_page_failure_paths(page_server: PageServer) -> None:
    counts = run_browser_test("config-errors", {"PAGE_URL": page_server.url})
    assert counts["pass"] == 3
