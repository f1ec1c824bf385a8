"""/api/docs: the OpenAPI document browsed with Swagger UI, served from this site (being written)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_docs", __name__)
