"""The ceiling: a minimal Flask app, served by the benchmark exactly as the forum is."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
