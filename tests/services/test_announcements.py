"""Crisis mode banners."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models.base import utcnow
from forum.services import announcements as ann
from forum.services.errors import FieldError, PermissionDenied


def test_active_banners_respect_start_end_and_dismissal(make_user) -> None:
    agent = make_user(role="agent")
    live = ann.create_announcement(agent, "Hubs in Europe are offline", "outage")
    ann.create_announcement(agent, "Maintenance tonight", "info", starts_at=utcnow() + timedelta(hours=2))
    past = ann.create_announcement(agent, "Yesterday's problem", "warning", starts_at=utcnow() - timedelta(days=2),
                                   ends_at=utcnow() - timedelta(days=1))
    db.session.commit()
    assert [a.id for a in ann.active()] == [live.id]
    reader = make_user()
    assert [a.id for a in ann.visible_to(reader, set())] == [live.id]
    ann.dismiss(reader, live)
    db.session.commit()
    assert ann.visible_to(reader, set()) == []
    assert [a.id for a in ann.visible_to(None, set())] == [live.id]
    assert ann.visible_to(None, {live.id}) == []
    assert past.id


def test_only_staff_announce_and_bad_input_is_refused(make_user) -> None:
    with pytest.raises(PermissionDenied):
        ann.create_announcement(make_user(), "A member cannot do this", "info")
    agent = make_user(role="agent")
    with pytest.raises(FieldError):
        ann.create_announcement(agent, "Bad severity here", "panic")
    with pytest.raises(FieldError):
        ann.create_announcement(agent, "Ends before it starts", "info", starts_at=utcnow(), ends_at=utcnow() - timedelta(hours=1))
