"""The statement-cost benchmark (tools/bench/statements.py) run tiny: it times one write-path
statement through the session, a Core connection and the driver alone, and changes nothing."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question
from tools.bench.statements import run


def test_each_layer_is_timed_and_the_forum_is_left_as_it_was(app: Flask, make_question, tmp_path) -> None:
    make_question()
    before = db.session.scalar(select(func.count(Question.first_response_at)))
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    result = run(url, calls=30, workdir=str(tmp_path))
    assert db.session.scalar(select(func.count(Question.first_response_at))) == before
    # The layers nest: the session runs the Core statement, which runs the driver's.
    assert 0 < result.driver_us < result.connection_us and 0 < result.session_us
    assert result.render_us > 0 and result.document_us > 0
    assert "| one statement through the session (ORM, page-cache hook) |" in result.table()
