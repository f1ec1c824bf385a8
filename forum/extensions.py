"""Extensions, created unbound and bound to an app in ``create_app``."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic diffs stable across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# The class models subclass. Flask-SQLAlchemy builds ``db.Model`` at run time, so the type
# checker cannot see it as a class; to it, the models are plain declarative classes of Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()


class _LazyMigrate:
    """``app.extensions["migrate"]`` that imports Flask-Migrate, and with it Alembic, only when a
    migration asks for it (``flask db ...``, ``flask_migrate.upgrade()``, migrations/env.py).

    Alembic and Flask-Migrate are about 12 MiB of every web worker's memory, which serves no
    migration (measured with tools.bench.memory; issue 11's 150 MiB per worker).
    """

    def __init__(self, app: Flask, directory: str) -> None:
        self.app, self.directory_path = app, directory

    def real(self) -> Any:
        """The Flask-Migrate configuration, made on first use (it replaces this object)."""
        found = self.app.extensions.get("migrate")
        if found is None or found is self:
            from flask_migrate import Migrate  # the deferred import this class exists for

            Migrate().init_app(self.app, db, directory=self.directory_path, render_as_batch=True)
            found = self.app.extensions["migrate"]
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class _LazyDbGroup(click.Group):
    """The ``flask db`` command group, loaded from Flask-Migrate when the CLI asks for it."""

    def __init__(self, lazy: _LazyMigrate) -> None:
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")
        self.lazy = lazy

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # The real group parses the options (-d, -x) and runs its own callback and commands.
        self.lazy.real()
        group: click.Group = importlib.import_module("flask_migrate.cli").db
        return group.make_context(info_name, args, parent=parent, **extra)


def init_migrate(app: Flask, directory: str) -> None:
    """Flask-Migrate for ``app`` (migrations in ``directory``, batch mode for SQLite), deferred."""
    lazy = _LazyMigrate(app, directory)
    app.extensions["migrate"] = lazy
    app.cli.add_command(_LazyDbGroup(lazy))
