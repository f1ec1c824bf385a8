"""Images uploaded for posts, and which posts reference them (docs/uploads.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow

UPLOAD_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
UPLOAD_SOURCES = ("question", "answer", "comment", "article", "case_event")


class Upload(Model):
    """One re-encoded image. ``id`` is random and unguessable (it is the URL: /uploads/<id>.<ext>).

    ``data`` holds the bytes when the database is the store (UPLOAD_STORE "db"); with the
    shared-directory store it is NULL and the bytes are a file named after the id.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("ext IN ('png', 'jpg', 'gif', 'webp')", name="ext"),
        Index("ix_uploads_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ext: Mapped[str] = mapped_column(String(4))
    content_type: Mapped[str] = mapped_column(String(20))
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(100), default="")  # a safe version of the name it came with
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def path(self) -> str:
        return f"/uploads/{self.id}.{self.ext}"


class UploadRef(Model):
    """A post (or case message) whose current text references an upload; rebuilt on every write."""

    __tablename__ = "upload_refs"
    __table_args__ = (
        CheckConstraint("source_type IN ('question', 'answer', 'comment', 'article', 'case_event')",
                        name="source_type"),
        Index("ix_upload_refs_source", "source_type", "source_id"),
    )

    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True)
    source_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[int] = mapped_column(primary_key=True)
