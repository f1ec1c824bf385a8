"""Images in posts: the composer's upload (JSON) and the images themselves (docs/uploads.md)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..ratelimit import limited
from ..services import uploads as svc
from ..services.errors import ServiceError
from .errorpages import error_response
from .formglue import writes

bp = Blueprint("uploads", __name__)

#: A year: an upload's URL never changes content (a new image is a new id).
CACHE_FOREVER = "public, max-age=31536000, immutable"


@bp.route("/uploads", methods=["POST"], endpoint="create")
@writes
@limited("upload", methods=["POST"], json=True)
def create() -> ResponseReturnValue:
    """Store the image in the ``file`` field; answers 201 ``{"url", "markdown", "name", ...}``.

    Refusals are JSON ``{"error": {"status", "message"}}``: 401 signed out, 400 no file (or a
    bad CSRF token), 403 may not post, 413 too large, 415 not an image, 429 too many.
    """
    if not current_user.is_authenticated:
        return error_response(401, "Sign in to add images.")
    sent = request.files.get("file")
    if sent is None:
        raise ServiceError("Choose an image to upload (the form field is \"file\").")
    data = sent.read(int(current_app.config["UPLOAD_MAX_BYTES"]) + 1)  # one byte over is enough to refuse
    upload = svc.upload_image(current_user, data, sent.filename or "image")
    alt = upload.filename.rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
    return jsonify(url=upload.path, name=upload.filename, markdown=f"![{alt}]({upload.path})",
                   width=upload.width, height=upload.height, size=upload.size), 201


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
