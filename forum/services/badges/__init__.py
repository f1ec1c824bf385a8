"""Badges that reward helping: the catalogue (catalogue.py), awarding on events and in bulk
(awards.py), and what the pages read (here).

No service calls in here: the subscribers in awards.py call ``on_event`` inside the writer's
transaction when a domain event says what happened (forum/subscribers.py): AnswerPosted and
PostApproved ("answer"), AnswerAccepted ("accept"), VoteCast ("vote"), FlagsResolved ("flag",
when the flags were acted on), ArticleRated ("rate", when rated helpful). Every new award is
announced as BadgeAwarded. ``flask badges award`` runs ``award_all``.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import User, UserBadge
from ..errors import NotFound
from ..pagination import Page, paginate
from .awards import Award, award_all, on_event
from .catalogue import BADGES, BY_KEY, TIER_LABELS, TIERS, Badge

__all__ = ["BADGES", "Award", "Badge", "BadgeRow", "ProfileBadges", "TIERS", "TIER_LABELS", "award_all", "badge_page",
           "catalogue", "get_badge", "on_event", "profile_badges"]
PROFILE_LIMIT = 60  # badges listed on a profile; tag badges could otherwise grow with every tag


@dataclass(frozen=True)
class BadgeRow:
    badge: Badge
    earners: int  # members who earned it (a tag badge counts each member once)
    mine: bool  # the viewer holds it


@dataclass(frozen=True)
class ProfileBadges:
    counts: dict[str, int]  # tier -> badges held
    items: list[tuple[Badge, UserBadge]]  # rarest tier first, newest first within a tier
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def get_badge(key: str) -> Badge:
    """Raises NotFound for a key that is not in the catalogue."""
    badge = BY_KEY.get(key)
    if badge is None:
        raise NotFound("There is no such badge.")
    return badge


def catalogue(viewer: User | None) -> dict[str, list[BadgeRow]]:
    """Every badge grouped by tier (gold first) with its number of earners: two queries at most."""
    earners = dict(db.session.execute(
        select(UserBadge.badge, func.count(func.distinct(UserBadge.user_id))).group_by(UserBadge.badge)).all())
    mine: set[str] = set()
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        mine = set(db.session.scalars(select(UserBadge.badge).where(UserBadge.user_id == viewer.id).distinct()))
    return {tier: [BadgeRow(b, earners.get(b.key, 0), b.key in mine) for b in BADGES if b.tier == tier]
            for tier in TIERS}


def badge_page(badge: Badge, page: int) -> Page[UserBadge]:
    """Who earned ``badge``, newest first (with the member, in the same query)."""
    return paginate(select(UserBadge).where(UserBadge.badge == badge.key)
                    .order_by(UserBadge.awarded_at.desc(), UserBadge.id.desc()), page)


def profile_badges(user: User) -> ProfileBadges:
    """A member's badges for their profile: counts per tier and the first PROFILE_LIMIT badges."""
    keys_by_tier = {tier: [b.key for b in BADGES if b.tier == tier] for tier in TIERS}
    rank = case({key: i for i, tier in enumerate(TIERS) for key in keys_by_tier[tier]}, value=UserBadge.badge,
                else_=len(TIERS))
    rows = list(db.session.scalars(
        select(UserBadge).where(UserBadge.user_id == user.id)
        .order_by(rank, UserBadge.awarded_at.desc(), UserBadge.id.desc()).limit(PROFILE_LIMIT)))
    counts = {tier: 0 for tier in TIERS}
    for key, n in db.session.execute(select(UserBadge.badge, func.count()).where(UserBadge.user_id == user.id)
                                     .group_by(UserBadge.badge)).all():
        if key in BY_KEY:
            counts[BY_KEY[key].tier] += n
    items = [(BY_KEY[r.badge], r) for r in rows if r.badge in BY_KEY]
    return ProfileBadges(counts=counts, items=items, total=sum(counts.values()))
