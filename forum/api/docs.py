"""/api/docs: the OpenAPI document browsed with Swagger UI, served from this site.

Swagger UI's files come from the ``flask-swagger-ui`` package (its ``dist`` folder; not its
blueprint, whose page starts Swagger UI from an inline script the site's Content-Security-
Policy forbids): the page loads them from ``/api/docs/assets/`` and ``static/js/api_docs.js``
starts Swagger UI on ``/api/v1/openapi.json``. No file comes from another host.
"""
from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Response, abort, current_app, render_template, send_from_directory, url_for

from ..headers import CSP

bp = Blueprint("api_docs", __name__)

#: The package's folder of Swagger UI's built files.
ASSETS = str(files("flask_swagger_ui") / "dist")
#: The files the page loads (the folder has more: source maps, an OAuth redirect page).
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})
#: Swagger UI's stylesheet draws its icons as data: SVG images; everything else is the site's policy.
DOCS_CSP = CSP.replace("img-src 'self';", "img-src 'self' data:;")


@bp.route("/api/docs")
def index() -> Response:
    response = Response(render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json")))
    if current_app.config["CSP_ENABLED"]:
        response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@bp.route("/api/docs/assets/<name>")
def asset(name: str) -> Response:
    """One of Swagger UI's files; 404 for any other name."""
    if name not in SERVED:
        abort(404)
    return send_from_directory(ASSETS, name, max_age=86400)
