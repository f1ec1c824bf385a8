"""/api/docs without a browser: the page, its assets from this site, and its policy."""
from __future__ import annotations

from flask.testing import FlaskClient


def test_the_docs_page_loads_swagger_ui_from_this_site_and_no_inline_script(client: FlaskClient) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page and "/static/js/api_docs.js" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert "<script>" not in page and "http://" not in page.replace("http://localhost", "")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as js:  # a file: closed, else ResourceWarning
        assert js.status_code == 200 and "SwaggerUIBundle" in js.get_data(as_text=True)
    with client.get("/api/docs/assets/swagger-ui.css") as css:
        assert css.status_code == 200


def test_only_the_pages_own_assets_are_served(client: FlaskClient) -> None:
    assert client.get("/api/docs/assets/oauth2-redirect.html").status_code == 404
    assert client.get("/api/docs/assets/..%2f..%2fpyproject.toml").status_code == 404
