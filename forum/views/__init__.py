"""One blueprint per area; views parse, call one service, commit once, then render."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import answers, auth, comments, main, questions, search, users

    for module in (main, auth, users, questions, answers, comments, search):
        app.register_blueprint(module.bp)
