"""Generation numbers of what cached pages read (forum/pagecache/), when no Redis is configured."""
from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model


class PageCacheGeneration(Model):
    """One dependency of cached pages (``questions:12``, ``lists``, ``banners``, ``global``…) and
    how many committed writes have touched it. Bumped inside the writer's transaction, so every
    process serving pages agrees on it the moment the write commits."""

    __tablename__ = "page_cache_generations"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
