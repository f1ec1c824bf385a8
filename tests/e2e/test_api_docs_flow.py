"""/api/docs in a real browser: Swagger UI from this site only, under the site's CSP, listing
the operations of /api/v1/openapi.json, at a phone's width and a desktop's."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.mark.parametrize("width", [360, 1440])
def test_the_api_reference_lists_the_operations_without_csp_violations(
        new_page: Callable[..., Any], live_server: str, width: int) -> None:
    page = new_page(width=width, height=900)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(r.url) if not r.url.startswith((live_server, "data:")) else None)
    response = page.goto("/api/docs")
    assert response is not None and response.status == 200
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/questions" in paths and "/api/v1/questions/{question_id}" in paths
    assert page.get_by_role("link", name="Back to the community").get_attribute("href") == "/"
    assert page.locator(".docs-brand").inner_text().strip()
    assert problems == [] and hosts == []
