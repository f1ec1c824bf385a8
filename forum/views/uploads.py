"""Images in posts: the composer's upload (JSON) and the images themselves (docs/uploads.md)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from ..models import Upload
from ..ratelimit import limited
from ..services import uploads as svc
from ..services.errors import ServiceError
from .errorpages import error_response, wants_json
from .formglue import writes

bp = Blueprint("uploads", __name__)


@bp.record_once
def _check_settings(state: BlueprintSetupState) -> None:
    """A mistyped UPLOAD_* setting stops the start, not the first upload (raises ValueError)."""
    cfg = state.app.config
    if str(cfg["UPLOAD_STORE"]).lower() not in ("db", "fs"):
        raise ValueError(f"UPLOAD_STORE={cfg['UPLOAD_STORE']!r}: use 'db' (the database) or 'fs' (UPLOAD_DIR)")
    for name in ("UPLOAD_MAX_BYTES", "UPLOAD_MAX_PIXELS", "UPLOAD_ORPHAN_HOURS"):
        if not float(cfg[name]) > 0:
            raise ValueError(f"{name}={cfg[name]!r} must be a positive number")

#: A year: an upload's URL never changes content (a new image is a new id).
CACHE_FOREVER = "public, max-age=31536000, immutable"


def _page(error: str = "", added: Upload | None = None) -> str:
    return render_template("uploads/new.html", error=error, added=added)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """Far over the limit, werkzeug stops reading the upload: say what the limit is."""
    message = svc.too_large_message(int(current_app.config["UPLOAD_MAX_BYTES"]))
    return error_response(413, message) if wants_json() else (_page(error=message), 413)


@bp.route("/uploads", methods=["POST"], endpoint="create")
@writes
@limited("upload", methods=["POST"], page=_page)
def create() -> ResponseReturnValue:
    """Store the image in the ``file`` field; answers 201 ``{"url", "markdown", "name", ...}``.

    Refusals are JSON ``{"error": {"status", "message"}}``: 401 signed out, 400 no file (or a
    bad CSRF token), 403 may not post, 413 too large, 415 not an image, 429 too many. The form
    of ``/uploads/new`` (no JavaScript) gets that page instead, with the Markdown or the reason.
    """
    if not current_user.is_authenticated:
        return error_response(401, "Sign in to add images.") if wants_json() else redirect(url_for("auth.login"))
    sent = request.files.get("file")
    try:
        if sent is None:
            raise ServiceError("Choose an image to upload (the form field is \"file\").")
        data = sent.read(int(current_app.config["UPLOAD_MAX_BYTES"]) + 1)  # one byte over is enough to refuse
        upload = svc.upload_image(current_user, data, sent.filename or "image")
    except ServiceError as exc:
        if wants_json():
            raise
        return _page(error=exc.message), exc.status
    if not wants_json():
        return redirect(url_for("uploads.new", added=f"{upload.id}.{upload.ext}"))
    alt = upload.filename.rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
    return jsonify(url=upload.path, name=upload.filename, markdown=f"![{alt}]({upload.path})",
                   width=upload.width, height=upload.height, size=upload.size), 201


@bp.route("/uploads/new", endpoint="new")
@login_required
def new() -> ResponseReturnValue:
    """Without JavaScript: a form to upload an image and, after it, the Markdown to paste."""
    upload_id, _, ext = request.args.get("added", "").partition(".")
    added = None
    if upload_id and ext:
        try:
            added = svc.get_upload(upload_id, ext)
        except ServiceError:
            added = None
    return _page(added=added)


@bp.route("/uploads/<string:upload_id>.<any(png, jpg, gif, webp):ext>", endpoint="show")
def show(upload_id: str, ext: str) -> ResponseReturnValue:
    """The image, cacheable for a year, never sniffed as anything else (404 unknown)."""
    upload, data = svc.read_upload(upload_id, ext)
    response = Response(data, mimetype=upload.content_type)
    response.headers["Cache-Control"] = CACHE_FOREVER
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{upload.filename}"'
    # Opened on its own, the image is a document that may run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.set_etag(upload.sha256)
    return response.make_conditional(request)
