"""API resource: articles (being written)."""
from __future__ import annotations

from .core import api_blueprint

bp = api_blueprint("articles", "articles")
