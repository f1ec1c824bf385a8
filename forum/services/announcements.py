"""Crisis mode: site-wide announcement banners with a severity and an incident thread."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Announcement, AnnouncementDismissal, Question, User
from ..models.base import utcnow
from .audit import log_action
from .errors import FieldError, NotFound
from .permissions import require

SEVERITIES = ("info", "warning", "outage")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def create_announcement(actor: User, message: str, severity: str, *, incident: Question | None = None,
                        starts_at: datetime | None = None, ends_at: datetime | None = None) -> Announcement:
    """Raises FieldError for an unknown severity or an end before the start."""
    require(actor, "announce")
    if severity not in SEVERITIES:
        raise FieldError("severity", "Choose info, warning or outage.")
    message = " ".join(message.split())
    if not 5 <= len(message) <= 300:
        raise FieldError("message", "Write 5 to 300 characters.")
    start = _utc(starts_at) or utcnow()
    end = _utc(ends_at)
    if end is not None and end <= start:
        raise FieldError("ends_at", "The end must be after the start.")
    item = Announcement(message=message, severity=severity, incident_question_id=incident.id if incident else None,
                        starts_at=start, ends_at=end, created_by_id=actor.id)
    db.session.add(item)
    db.session.flush()
    log_action(actor, "announce", "announcement", item.id, after={"message": message, "severity": severity,
                                                                  "starts_at": start, "ends_at": end})
    return item


def end_announcement(actor: User, item: Announcement) -> None:
    require(actor, "announce")
    before = item.ends_at
    item.ends_at = utcnow()
    db.session.flush()
    log_action(actor, "end_announcement", "announcement", item.id, before={"ends_at": before}, after={"ends_at": item.ends_at})


def get_announcement(announcement_id: int) -> Announcement:
    item = db.session.get(Announcement, announcement_id)
    if item is None:
        raise NotFound("No such announcement.")
    return item


def active(now: datetime | None = None) -> list[Announcement]:
    """Announcements running now, most severe first."""
    now = now or utcnow()
    stmt = select(Announcement).where(Announcement.starts_at <= now,
                                      or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))
    rank = {"outage": 0, "warning": 1, "info": 2}
    return sorted(db.session.scalars(stmt), key=lambda a: (rank[a.severity], -a.id))


def visible_to(user: User | None, dismissed_ids: set[int]) -> list[Announcement]:
    """Active announcements minus those this user (or anonymous session) dismissed."""
    items = active()
    if not items:
        return []
    if user is not None and getattr(user, "is_authenticated", False):
        ids = [a.id for a in items]
        dismissed_ids = dismissed_ids | set(db.session.scalars(
            select(AnnouncementDismissal.announcement_id).where(AnnouncementDismissal.user_id == user.id,
                                                                 AnnouncementDismissal.announcement_id.in_(ids))))
    return [a for a in items if a.id not in dismissed_ids]


def dismiss(user: User, item: Announcement) -> None:
    if db.session.get(AnnouncementDismissal, (item.id, user.id)) is None:
        db.session.add(AnnouncementDismissal(announcement_id=item.id, user_id=user.id))
        db.session.flush()


def recent(limit: int = 20) -> list[Announcement]:
    return list(db.session.scalars(select(Announcement).order_by(Announcement.created_at.desc()).limit(limit)))
