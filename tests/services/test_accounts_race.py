"""Two sign-ups that pass the checks at the same moment: the unique constraints decide, and the
loser gets the usual refusal instead of a 500 (the checks are simulated as racing by skipping them)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import User
from forum.services import accounts, verification
from forum.services.errors import FieldError


def test_a_racing_sign_up_with_a_taken_address_is_refused_cleanly(app, make_user, monkeypatch) -> None:
    first = make_user("first_one", email="same@example.com")
    monkeypatch.setattr(accounts, "_check_email_free", lambda email, exclude_id=None: None)
    with pytest.raises(accounts.EmailTaken):
        accounts.register(accounts.Registration("second_one", "same@example.com", "a-long-password"))
    # The transaction goes on: the first account is intact and nothing half-made remains.
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert db.session.get(User, first.id).email == "same@example.com"


def test_a_racing_sign_up_with_a_taken_username_is_refused_cleanly(app, make_user, monkeypatch) -> None:
    make_user("taken_name")
    monkeypatch.setattr(accounts, "check_registration", lambda data, allow_reserved=False: data.username)
    with pytest.raises(FieldError) as refused:
        accounts.register(accounts.Registration("taken_name", "other@example.com", "a-long-password"))
    assert refused.value.field == "username" and not isinstance(refused.value, accounts.EmailTaken)


def test_the_sign_up_form_answers_a_lost_race_like_any_taken_address(app, make_user, monkeypatch) -> None:
    make_user("owner_one", email="race@example.com")
    real_scalar = db.session.scalar
    lookups = []

    def owner_not_seen_yet(stmt: Any, *args: Any, **kwargs: Any) -> Any:  # looked up before the winner committed
        if "users.email =" in str(stmt):
            lookups.append(stmt)
            return None
        return real_scalar(stmt, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", owner_not_seen_yet)
    monkeypatch.setattr(accounts, "_check_email_free", lambda email, exclude_id=None: None)
    with app.test_request_context():
        assert verification.sign_up(accounts.Registration("late_one", "race@example.com", "a-long-password")) \
            == "race@example.com"
    monkeypatch.undo()
    assert lookups  # the sign-up did look the address up, and was told it was free
    assert db.session.scalar(select(func.count(User.id))) == 1
