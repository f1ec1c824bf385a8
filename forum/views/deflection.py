"""Insights: the deflection beacon and the search counter (rules in services/deflection.py).

``POST /insights/beacon`` takes what ``navigator.sendBeacon`` sends from static/js/deflection.js,
a small form body: ``kind`` ("suggestion", "search", "abandon"), ``target_type`` ("question",
"article") and ``target_id``. It answers 204 whether or not the report counted (a beacon's
answer is never read), 400 with ``{"error": …}`` for a malformed one, 403 for a cross-site one.

It is CSRF-exempt: the pages that send it are served to anonymous visitors from the shared page
cache, which carries no per-session token. Instead, a request is refused unless it comes from a
page of this site: ``Sec-Fetch-Site: same-origin`` when the browser sends the header, otherwise
an ``Origin`` whose host is this request's host (a request with neither is refused). Beyond
that, all a forged beacon could do is add a pending event for a random id the forger holds;
the rate limit ("beacon") bounds that.

Searches are counted by an after-request hook, as page views are (forum/viewcounts.py), so a
results page served from the page cache (its before-request hook answers before the view runs)
counts too. Whether the search found anything is read from the page itself: the results
section carries ``data-search-total="N"`` (templates/search/index.html), and the cached copy
is the same bytes, so the decision survives caching.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import csrf
from ..ratelimit import limited
from ..services import deflection as svc
from ..services.errors import FieldError
from .errorpages import ERROR_CODES
from .formglue import writes

log = logging.getLogger(__name__)
bp = Blueprint("deflection", __name__)
SEARCH_TOTAL = re.compile(rb'data-search-total="(\d+)"')


def _json_error(status: int, message: str, field: str | None = None) -> tuple[Response, int]:
    # Always JSON: a beacon sends no Accept header, and nobody reads an error page here.
    error: dict[str, object] = {"code": ERROR_CODES.get(status, "error"), "status": status, "message": message,
                                "field": field}
    return jsonify(error=error), status


def same_site_request() -> bool:
    """Whether the request comes from one of this site's pages (see the module docstring)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc.lower() == request.host.lower()


@bp.route("/insights/beacon", methods=["POST"])
@csrf.exempt
@writes
@limited("beacon", json=True)
def beacon() -> ResponseReturnValue:
    if not same_site_request():
        return _json_error(403, "Reports are accepted from this site's pages only.")
    form = request.form
    try:
        svc.record_beacon(current_user, svc.visitor_id, form.get("kind", ""), form.get("target_type", ""),
                          form.get("target_id", ""), request.headers.get("User-Agent"))
    except FieldError as exc:
        return _json_error(400, exc.message, exc.field)
    return Response(status=204)


@bp.after_app_request
def _count_search(response: Response) -> Response:
    """After every response: count a search results page (first page only; sorting and
    filtering run a new search), rendered or from the page cache. Never fails the page."""
    if (request.endpoint != "search.index" or request.method != "GET" or response.status_code != 200
            or response.direct_passthrough or request.args.get("page", "1") not in ("", "1")):
        return response
    found = SEARCH_TOTAL.search(response.get_data())
    if found is None:  # the empty search form, no search ran
        return response
    try:
        svc.record_search(current_user, request.args.get("q", ""), found.group(1) != b"0",
                          request.headers.get("User-Agent"))
    except Exception:  # the page matters more than its count
        log.warning("search count unavailable", exc_info=True)
    return response
