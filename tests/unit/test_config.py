"""Configuration: environment overrides, secrets, production safety."""
from __future__ import annotations

from pathlib import Path

import pytest

from config import Config, ProductionConfig, settings_from_env
from forum import create_app


def test_forum_env_variables_override_settings() -> None:
    settings = settings_from_env(Config, {"FORUM_COMMENT_MAX_LENGTH": "400", "FORUM_DATABASE_URL": "sqlite:///x.db",
                                          "FORUM_CSP_ENABLED": "false"})
    assert settings["COMMENT_MAX_LENGTH"] == 400
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///x.db"
    assert settings["CSP_ENABLED"] is False


def test_non_numeric_override_of_a_number_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="FORUM_PER_PAGE"):
        settings_from_env(Config, {"FORUM_PER_PAGE": "twenty"})


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="FORUM_SECRET_KEY"):
        create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_sets_secure_cookie_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FORUM_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path))
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_secret_key_is_generated_once_and_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path))
    first = create_app("development").config["SECRET_KEY"]
    second = create_app("development").config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


#: OWASP Password Storage Cheat Sheet, Argon2id: (memory KiB, iterations) pairs of "an equal
#: level of defense", each with p=1.
OWASP_ARGON2ID = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))


def test_production_password_hash_meets_owasp_argon2id_minimum() -> None:
    assert ProductionConfig.ARGON2_PARALLELISM >= 1
    assert any(ProductionConfig.ARGON2_MEMORY_COST >= m and ProductionConfig.ARGON2_TIME_COST >= t
               for m, t in OWASP_ARGON2ID)


def test_production_password_hash_stays_within_the_worker_memory_budget() -> None:
    # Each sign-in allocates the memory cost once; a gunicorn worker keeps that peak, and the
    # memory target is 150 MiB per worker (docs/performance.md, "Memory"): the least memory
    # of OWASP's equivalent settings.
    assert ProductionConfig.ARGON2_MEMORY_COST <= 7 * 1024


def test_postgres_urls_use_psycopg3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "postgres://u@h/db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_search_cache_budget_comes_from_the_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Operators size each worker's posting cache with FORUM_SEARCH_CACHE_MIB (default 32).
    from forum.search_index import get_handle

    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("FORUM_SEARCH_CACHE_MIB", "5")
    app = create_app("testing")
    with app.app_context():
        assert get_handle().index._cache.budget == 5 * 1024 * 1024
    monkeypatch.delenv("FORUM_SEARCH_CACHE_MIB")
    assert create_app("production", {"SECRET_KEY": "x" * 32}).config["SEARCH_CACHE_MIB"] == 32
