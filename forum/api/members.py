"""API resource: members (being written)."""
from __future__ import annotations

from .core import api_blueprint

bp = api_blueprint("members", "members")
