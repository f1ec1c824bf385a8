"""The forum application factory: wiring only, no database writes, no network."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import CONFIGS, ROOT, development_secret_key, settings_from_env

from . import (
    api,
    cli,
    cli_jobs,
    database,
    events,
    jobs,
    pagecache,
    search_sync,
    semantic_sync,
    subscribers,
    viewcounts,
    web,
)
from .extensions import csrf, db, init_migrate, login_manager


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app for ``config_name`` (development, testing, production).

    Raises RuntimeError in production when no FORUM_SECRET_KEY is set: a guessable key would
    let anyone forge sessions.
    """
    config_name = config_name or os.environ.get("FORUM_ENV", "development")
    if config_name not in CONFIGS:
        raise RuntimeError(f"Unknown FORUM_ENV {config_name!r}; use one of {', '.join(CONFIGS)}.")
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("FORUM_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.from_mapping(settings_from_env(CONFIGS[config_name]))
    if overrides:
        app.config.update(overrides)
    app.config["ENV_NAME"] = config_name
    _finish_config(app, config_name)

    database.init_app(app)
    db.init_app(app)
    init_migrate(app, str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    events.init_app()
    subscribers.init_app(app)
    search_sync.init_app(app)
    semantic_sync.init_app(app)
    jobs.init_app(app)
    web.init_app(app)
    api.init_app(app)
    pagecache.init_app(app)
    viewcounts.init_app(app)  # after the page cache: its hits are counted too (after_request)
    cli.init_app(app)
    cli_jobs.init_app(app)
    return app


def _finish_config(app: Flask, config_name: str) -> None:
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        if config_name == "production":
            raise RuntimeError("FORUM_SECRET_KEY must be set in production.")
        app.config["SECRET_KEY"] = development_secret_key(instance)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'forum.db'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # psycopg 3 is the driver; accept the common spellings operators paste in.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len(prefix):]
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(instance / "index")
