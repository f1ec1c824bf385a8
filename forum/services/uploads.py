"""Images in posts: checked, re-encoded and stored so every web host can serve them (docs/uploads.md).

An upload is accepted for what its bytes are, never for its name or the type the browser
claimed: Pillow must open it as PNG, JPEG, GIF or WebP. It is refused when larger than
``UPLOAD_MAX_BYTES`` (413), when its dimensions exceed ``UPLOAD_MAX_PIXELS`` (413: checked
from the header, before any pixel is decoded, so a decompression bomb costs nothing), or when
it is not one of those images (415). What is kept is a fresh encoding of the pixels: the
EXIF orientation applied, and every piece of metadata (EXIF with its GPS position, comments,
colour profiles, text chunks) left behind. A GIF keeps its first frame, as a PNG.

The bytes live in an :class:`UploadStore`: the ``uploads`` table itself (``UPLOAD_STORE =
"db"``, the default: whatever database every host already shares) or a directory every host
mounts (``"fs"``, ``UPLOAD_DIR``). The row (id, type, size, who) is always in the database, so
references and clean-up work the same with either store.

Which posts reference which uploads is kept in ``upload_refs`` by :func:`record_body_refs` and
:func:`record_case_message_refs` (subscribers, forum/subscribers.py); :func:`cleanup` deletes
uploads that nothing references once they are older than ``UPLOAD_ORPHAN_HOURS``.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, cast

from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy import delete, exists, select

from ..events import AnswerPosted, ArticleWritten, BodyEvent, CaseMessageAdded, CommentAdded, QuestionAsked
from ..extensions import db
from ..models import UPLOAD_TYPES, Answer, Article, CaseEvent, Comment, Question, Upload, UploadRef, User
from ..models.base import utcnow
from .errors import NotFound, ServiceError
from .permissions import require

#: Pillow format -> (format written, extension). GIF keeps its first frame, as a PNG; MPO is
#: the JPEG some cameras write (several pictures; the first is the photo).
FORMATS = {"PNG": ("PNG", "png"), "JPEG": ("JPEG", "jpg"), "MPO": ("JPEG", "jpg"), "GIF": ("PNG", "png"),
           "WEBP": ("WEBP", "webp")}
#: The openers Pillow may try (its JPEG opener also reads MPO).
OPENERS = ["PNG", "JPEG", "GIF", "WEBP"]
#: An upload's path, as it appears in a post's Markdown or HTML.
UPLOAD_PATH_RE = re.compile(r"/uploads/([A-Za-z0-9_-]{22})\.(png|jpg|gif|webp)\b")
_FILENAME_NOISE_RE = re.compile(r"[^A-Za-z0-9._-]+")
JPEG_QUALITY = 85
WEBP_QUALITY = 85


class UploadTooLarge(ServiceError):
    """The file or its dimensions are over the limits (413)."""

    status = 413


class NotAnImage(ServiceError):
    """The bytes are not a PNG, JPEG, GIF or WebP image (415)."""

    status = 415


@dataclass(frozen=True)
class Encoded:
    """An accepted image, re-encoded: what is stored and served."""

    data: bytes
    ext: str
    content_type: str
    width: int
    height: int


def _megabytes(n: int) -> str:
    """A size as people read it: "5 MB", "7.2 MB", "300 KB"."""
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def too_large_message(max_bytes: int, size: int | None = None) -> str:
    """What a refusal for size says: the limit, and the file's size when known."""
    if size is None:
        return f"The image is larger than {_megabytes(max_bytes)}, the most we accept."
    return f"The image is {_megabytes(size)}; images up to {_megabytes(max_bytes)} are accepted."


def reencode(data: bytes, *, max_bytes: int, max_pixels: int) -> Encoded:
    """Check ``data`` is an image within the limits and return it freshly encoded, metadata-free.

    Raises:
        ServiceError: (400) no bytes at all.
        UploadTooLarge: (413) more than ``max_bytes``, more than ``max_pixels`` pixels (read
            from the header, before decoding), or larger than ``max_bytes`` once re-encoded.
        NotAnImage: (415) Pillow does not recognise PNG, JPEG, GIF or WebP in the bytes, or
            the image is damaged (its pixels fail to decode).
    """
    if not data:
        raise ServiceError("The file is empty. Choose an image (PNG, JPEG, GIF or WebP).")
    if len(data) > max_bytes:
        raise UploadTooLarge(too_large_message(max_bytes, len(data)))
    with warnings.catch_warnings():
        # Our own pixel limit is checked below, before anything is decoded; Pillow's global
        # warning threshold must not print, and its error threshold is a bomb (413) too.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=OPENERS)
        except Image.DecompressionBombError:
            raise UploadTooLarge("The image has too many pixels.") from None
        except Exception:  # noqa: BLE001 - Pillow's parsers raise many kinds on hostile input: a 415, never a 500
            raise NotAnImage("That file is not an image we accept: use PNG, JPEG, GIF or WebP.") from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise UploadTooLarge(f"The image is {width} × {height} pixels; images up to "
                                     f"{max_pixels / 1_000_000:g} megapixels are accepted.")
            source_format = str(image.format)
            if source_format not in FORMATS:
                raise NotAnImage("That file is not an image we accept: use PNG, JPEG, GIF or WebP.")
            try:
                image.seek(0)
                image.load()
                upright = ImageOps.exif_transpose(image)
            except Image.DecompressionBombError:
                raise UploadTooLarge("The image has too many pixels.") from None
            except Exception:  # noqa: BLE001 - as above: damaged pixels or EXIF are the sender's problem, a 415
                raise NotAnImage("That image is damaged or incomplete; save it again and retry.") from None
    out_format, ext = FORMATS[source_format]
    pixels = _plain_pixels(upright, out_format)
    buffer = io.BytesIO()
    if out_format == "JPEG":
        pixels.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif out_format == "WEBP":
        pixels.save(buffer, "WEBP", quality=WEBP_QUALITY)
    else:
        pixels.save(buffer, "PNG")
    encoded = buffer.getvalue()
    if len(encoded) > max_bytes:
        raise UploadTooLarge(f"The image is {_megabytes(len(encoded))} once converted; images up to "
                             f"{_megabytes(max_bytes)} are accepted. Try a JPEG or a smaller image.")
    return Encoded(encoded, ext, UPLOAD_TYPES[ext], pixels.width, pixels.height)


def _plain_pixels(image: Image.Image, out_format: str) -> Image.Image:
    """The pixels alone, in a mode ``out_format`` writes; ``info`` (EXIF, ICC, text) dropped."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if out_format == "JPEG":
        mode = "L" if image.mode in ("L", "1") else "RGB"
    elif image.mode in ("L", "RGB", "RGBA"):
        mode = image.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    plain = image.convert(mode) if image.mode != mode else image.copy()
    plain.info = {}
    return plain


def safe_filename(name: str, ext: str) -> str:
    """A filename safe in a header and a URL: ASCII letters, digits, ``._-``; the real extension."""
    stem = Path(name.replace("\\", "/").rsplit("/", 1)[-1]).stem
    stem = _FILENAME_NOISE_RE.sub("-", stem).strip(".-_")[:60] or "image"
    return f"{stem}.{ext}"


# ----------------------------------------------------------------------------- storage


class UploadStore(Protocol):
    """Where an upload's bytes live; every web host must see the same ones."""

    def put(self, upload: Upload, data: bytes) -> None:
        """Keep ``data`` for ``upload`` (called before the row's transaction commits)."""

    def get(self, upload: Upload) -> bytes | None:
        """The bytes, or None when they are gone."""

    def delete(self, upload: Upload) -> None:
        """Forget the bytes (called for rows that are deleted; missing bytes are fine)."""


class DatabaseStore:
    """The bytes in the ``uploads`` row itself: nothing to share but the database."""

    def put(self, upload: Upload, data: bytes) -> None:
        upload.data = data

    def get(self, upload: Upload) -> bytes | None:
        return upload.data

    def delete(self, upload: Upload) -> None:
        return None  # the bytes go with the row


class FileStore:
    """The bytes as files under ``root`` (a directory every host mounts, e.g. NFS), two
    characters of the id per sub-directory. Written to a temporary name and renamed, so a
    reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, upload: Upload) -> Path:
        return self.root / upload.id[:2] / f"{upload.id}.{upload.ext}"

    def put(self, upload: Upload, data: bytes) -> None:
        target = self.path(upload)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def get(self, upload: Upload) -> bytes | None:
        try:
            return self.path(upload).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, upload: Upload) -> None:
        self.path(upload).unlink(missing_ok=True)


def get_store() -> UploadStore:
    """The store ``UPLOAD_STORE`` names. Raises ValueError for another name."""
    cfg = current_app.config
    kind = str(cfg["UPLOAD_STORE"]).lower()
    if kind == "db":
        return DatabaseStore()
    if kind == "fs":
        return FileStore(Path(cfg.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads"))
    raise ValueError(f"UPLOAD_STORE={kind!r}: use 'db' or 'fs'")


# ----------------------------------------------------------------------------- writing and reading


def upload_image(user: User, data: bytes, filename: str) -> Upload:
    """Check, re-encode and store an image for ``user``; the new row is flushed.

    Raises PermissionDenied (403) for a member who may not post (silenced, suspended), and
    whatever :func:`reencode` raises (400, 413, 415).
    """
    require(user, "ask", message="Your account can't post right now, so it can't add images.")
    cfg = current_app.config
    encoded = reencode(data, max_bytes=int(cfg["UPLOAD_MAX_BYTES"]), max_pixels=int(cfg["UPLOAD_MAX_PIXELS"]))
    upload = Upload(id=secrets.token_urlsafe(16), ext=encoded.ext, content_type=encoded.content_type,
                    uploader_id=user.id, filename=safe_filename(filename, encoded.ext), size=len(encoded.data),
                    width=encoded.width, height=encoded.height,
                    sha256=hashlib.sha256(encoded.data).hexdigest(), created_at=utcnow())
    get_store().put(upload, encoded.data)
    db.session.add(upload)
    db.session.flush()
    return upload


def get_upload(upload_id: str, ext: str) -> Upload:
    """The upload row. Raises NotFound for an unknown id or another extension than its own."""
    upload = db.session.get(Upload, upload_id) if len(upload_id) <= 32 else None
    if upload is None or upload.ext != ext:
        raise NotFound("No such image.")
    return upload


def read_upload(upload_id: str, ext: str) -> tuple[Upload, bytes]:
    """The upload and its bytes. Raises NotFound for an unknown id, another extension than
    its own, or bytes missing from the store."""
    upload = get_upload(upload_id, ext)
    data = get_store().get(upload)
    if data is None:
        raise NotFound("No such image.")
    return upload, data


# ----------------------------------------------------------------------------- references and clean-up


def upload_ids_in(text: str) -> set[str]:
    """Ids of the uploads a text points at (as images or as links)."""
    return {m.group(1) for m in UPLOAD_PATH_RE.finditer(text)}


def record_refs(source_type: str, source_id: int, text: str, *, new: bool = False) -> None:
    """Replace what one post (or case message) references with the uploads ``text`` names
    (only ids that exist: a made-up path references nothing). ``new``: the row was just
    created, so nothing references from it yet and there is nothing to delete (posts are never
    deleted from the table, so a fresh id was never anyone's source before)."""
    if not new:
        db.session.execute(delete(UploadRef).where(UploadRef.source_type == source_type,
                                                   UploadRef.source_id == source_id),
                           execution_options={"synchronize_session": False})
    ids = upload_ids_in(text)
    if not ids:
        return
    found = db.session.scalars(select(Upload.id).where(Upload.id.in_(ids))).all()
    db.session.add_all(UploadRef(upload_id=i, source_type=source_type, source_id=source_id) for i in sorted(found))
    db.session.flush()


_SOURCES: dict[str, type[Question] | type[Answer] | type[Comment] | type[Article]] = {
    "question": Question, "answer": Answer, "comment": Comment, "article": Article}


def record_body_refs(event: BodyEvent) -> None:
    """Subscriber (a post or article was written or edited): its uploads are those of its text."""
    body = event.body
    row = cast(Question | Answer | Comment | Article | None, db.session.get(_SOURCES[body.source_type], body.source_id))
    if row is not None:
        record_refs(body.source_type, body.source_id, row.body, new=_created(event))


def _created(event: BodyEvent) -> bool:
    """The event announces a post written just now (not an edit of one that may hold references)."""
    return isinstance(event, QuestionAsked | AnswerPosted | CommentAdded) or (
        isinstance(event, ArticleWritten) and event.created)


def record_case_message_refs(event: CaseMessageAdded) -> None:
    """Subscriber: a case message references the uploads its text names."""
    row = db.session.get(CaseEvent, event.case_event_id)
    if row is not None:
        record_refs("case_event", row.id, row.body)


def cleanup(now: datetime | None = None) -> int:
    """Delete uploads no post references that are older than ``UPLOAD_ORPHAN_HOURS``; return
    how many. Rows are deleted and flushed here; their bytes leave the store only after the
    caller's commit (:func:`forget_bytes`), so a rollback loses nothing."""
    cutoff = (now or utcnow()) - timedelta(hours=float(current_app.config["UPLOAD_ORPHAN_HOURS"]))
    orphans = list(db.session.scalars(
        select(Upload).where(Upload.created_at < cutoff,
                             ~exists().where(UploadRef.upload_id == Upload.id))))
    gone = [Upload(id=u.id, ext=u.ext) for u in orphans]  # plain copies: the rows are deleted
    for upload in orphans:
        db.session.delete(upload)
    db.session.flush()
    db.session.info.setdefault("uploads.forget", []).extend(gone)
    return len(orphans)


def forget_bytes() -> None:
    """After the commit of :func:`cleanup`: remove the deleted uploads' bytes from the store."""
    store = get_store()
    for upload in db.session.info.pop("uploads.forget", []):
        store.delete(upload)
