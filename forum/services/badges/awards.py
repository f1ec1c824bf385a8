"""Awarding badges: on events, inside the event's transaction, and in bulk (the backfill).

The subscribers at the end (forum/subscribers.py wires them) turn domain events into
``on_event`` calls. Every award is an INSERT ... ON CONFLICT DO NOTHING on the unique (user,
badge, tag): when two workers evaluate the same event at once, both may find the badge
missing, but only one insert writes a row, and only that one (RETURNING says which) is
announced (``BadgeAwarded``; ``announce_award`` tells the member). Badges are never taken
away: nothing here deletes a row when a score drops or a vote is withdrawn.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ...database import after_real_commit
from ...events import (
    AnswerAccepted,
    AnswerPosted,
    ArticleRated,
    BadgeAwarded,
    FlagsResolved,
    PostApproved,
    VoteCast,
    publish,
)
from ...extensions import db
from ...models import Answer, Comment, Flag, Question, User, UserBadge
from ...models.base import table_of, utcnow
from .. import notifications
from ..flags import Post, find_post, post_type_of
from .catalogue import BADGES, BY_KEY, EVENTS, Badge

# What one event asks to evaluate: a badge, the members concerned, the tags (tag badges only).
Target = tuple[Badge, list[int], list[str] | None]
Held = tuple[int, str, str]  # (member, badge key, tag; "" for a badge that is not per tag)
INSERT_CHUNK = 500
#: session.info: the badges this transaction found held or awarded; known for good once it commits.
SEEN = "forum.badges.seen"
#: app.extensions: the badges members are known to hold, ``Held -> None`` (a dict keeps the
#: order they were learnt in, so the oldest go first past KNOWN_LIMIT). A badge is never
#: taken away, so once a row is committed the answer stays yes: every answer asks whether its
#: author holds Helper, and after their first answer it is always yes. Kept per app (one
#: database), filled only after the real commit, so a rolled-back award is never believed.
KNOWN = "forum.badges.known"
KNOWN_LIMIT = 100_000


@dataclass(frozen=True)
class Award:
    user_id: int
    badge: Badge
    tag: str


def _by_event(event: str) -> list[Badge]:
    return [b for b in BADGES if event in b.events]


def _targets(event: str, post: Post | None, user: User | None, value: int, delta: int) -> list[Target]:
    """The badges ``event`` can award and to whom; cheap checks on the event's own post skip
    badges it cannot have earned: a score badge while the post is below its score, a tag badge
    unless this vote just made the answer's score positive (only that moves a tag count)."""
    targets: list[Target] = []
    if event == "answer" and isinstance(post, Answer):
        targets += [(b, [post.author_id], None) for b in _by_event("answer")]
    elif event == "accept" and isinstance(post, Answer):
        question = post.question
        for b in _by_event("accept"):
            targets.append((b, [question.author_id] if b.post_type == "question" else [post.author_id], None))
    elif event == "vote" and post is not None and user is not None:
        for b in _by_event("vote"):
            if b.key == "supporter":
                if value == 1:
                    targets.append((b, [user.id], None))
            elif b.per_tag:
                if isinstance(post, Answer) and post.score > 0 >= post.score - delta:
                    targets.append((b, [post.author_id], [t.name for t in post.question.tags]))
            elif not isinstance(post, Comment) and b.post_type == post.kind and post.score >= b.threshold:
                targets.append((b, [post.author_id], None))
    elif event == "flag" and post is not None:
        flaggers = list(db.session.scalars(select(Flag.flagger_id).where(
            Flag.post_type == post_type_of(post), Flag.post_id == post.id, Flag.status == "actioned")))
        if flaggers:
            targets += [(b, flaggers, None) for b in _by_event("flag")]
    elif event == "rate" and user is not None:
        targets += [(b, [user.id], None) for b in _by_event("rate")]
    return targets


def on_event(event: str, *, post: Post | None = None, user: User | None = None,
             value: int = 0, delta: int = 0) -> list[Award]:
    """Evaluate the badges ``event`` can award, in the caller's transaction; returns the new awards.

    Events: "answer" (post = the new answer), "accept" (post = the accepted answer), "vote"
    (post = the voted post after its score moved by ``delta``, user = the voter, value = the
    new vote),
    "flag" (post = a post whose flags were just resolved), "rate" (user = who rated an
    article helpful). One query for what the members already hold, one per badge still
    missing, one insert. Raises ValueError for an unknown event.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown badge event {event!r}")
    targets = _targets(event, post, user, value, delta)
    if not targets:
        return []
    known = _known()
    if all(tags is None and all((u, b.key, "") in known for u in users) for b, users, tags in targets):
        return []  # every member already holds every badge: no query
    members = {u for _, users, _ in targets for u in users}
    held: set[Held] = {(r[0], r[1], r[2]) for r in db.session.execute(
        _HELD, {"members": sorted(members), "badges": sorted({b.key for b, _, _ in targets})})}
    _seen(held)
    found: list[tuple[Badge, int, str, int | None]] = []
    for badge, users, tags in targets:
        if tags is not None:
            if all((u, badge.key, t) in held for u in users for t in tags):
                continue
        else:
            users = [u for u in users if (u, badge.key, "") not in held]
            if not users:
                continue
        found += _evaluate(badge, users, tags)
    return _insert([f for f in found if (f[1], f[0].key, f[2]) not in held], notify=True)


#: The badges of ``badges`` that ``members`` hold already; built once (every answer asks).
_HELD = select(UserBadge.user_id, UserBadge.badge, UserBadge.tag).where(
    UserBadge.user_id.in_(bindparam("members", expanding=True)), UserBadge.badge.in_(bindparam("badges", expanding=True)))


def _known() -> dict[Held, None]:
    known: dict[Held, None] = current_app.extensions.setdefault(KNOWN, {})
    return known


def _seen(rows: Iterable[Held]) -> None:
    db.session.info.setdefault(SEEN, set()).update(rows)


def _remember(session: Session) -> None:
    """After the real commit: what the transaction saw held is held for good."""
    seen: set[Held] | None = session.info.pop(SEEN, None)
    if not seen:
        return
    known = _known()
    known.update(dict.fromkeys(seen))
    while len(known) > KNOWN_LIMIT:
        del known[next(iter(known))]


def forget_known() -> None:
    """Forget what this process learnt (in an app context): as a new process would start."""
    _known().clear()


def init_app() -> None:
    """Learn the badges a transaction saw once it really commits; a rollback forgets them."""
    after_real_commit("badges", None, _remember, (SEEN,))


def _evaluate(badge: Badge, users: Sequence[int] | None, tags: Sequence[str] | None) -> list[tuple[Badge, int, str, int | None]]:
    rows = db.session.execute(badge.rule(users, tags)).all()
    if badge.per_tag:
        return [(badge, user_id, tag, ref) for user_id, tag, ref in rows]
    return [(badge, user_id, "", ref) for user_id, ref in rows]


def award_all(*, notify: bool = False) -> int:
    """Evaluate every badge for every member from the data and award what is missing.

    Idempotent (run it after a deploy or after adding a badge); returns how many badges were
    awarded. Backfilled awards notify nobody unless ``notify``: a new badge could otherwise
    send thousands of messages at once.
    """
    total = 0
    for badge in BADGES:
        held = {tuple(r) for r in db.session.execute(select(UserBadge.user_id, UserBadge.tag)
                                                     .where(UserBadge.badge == badge.key))}
        missing = [f for f in _evaluate(badge, None, None) if (f[1], f[2]) not in held]
        total += len(_insert(missing, notify=notify))
    return total


def _insert(found: Iterable[tuple[Badge, int, str, int | None]], *, notify: bool) -> list[Award]:
    found = list({(b.key, u, t): (b, u, t, ref) for b, u, t, ref in found}.values())
    if not found:
        return []
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(UserBadge)
    now = utcnow()
    awards: list[Award] = []
    for start in range(0, len(found), INSERT_CHUNK):
        chunk = found[start:start + INSERT_CHUNK]
        rows = db.session.execute(
            insert(table).values([
                {"user_id": u, "badge": b.key, "tag": t, "awarded_at": now,
                 "post_type": b.post_type if ref is not None else None, "post_id": ref}
                for b, u, t, ref in chunk])
            .on_conflict_do_nothing(index_elements=["user_id", "badge", "tag"])
            .returning(table.c.user_id, table.c.badge, table.c.tag)
        ).all()
        awards += [Award(u, BY_KEY[k], t) for u, k, t in rows]
    _seen((a.user_id, a.badge.key, a.tag) for a in awards)
    for award in awards:
        publish(BadgeAwarded(user_id=award.user_id, badge=award.badge.key, tag=award.tag, announce=notify))
    return awards


def subject(award: Award) -> str:
    where = f" in {award.tag}" if award.tag else ""
    return f"You earned the {award.badge.tier_label.lower()} badge “{award.badge.name}”{where}."


# ---------------------------------------------------------------- subscribers


def answer_posted(event: AnswerPosted) -> None:
    """A new answer may earn its author an answering badge (a held one counts once approved)."""
    on_event("answer", post=db.session.get(Answer, event.answer_id))


def answer_approved(event: PostApproved) -> None:
    """Held answers count once they are published."""
    if event.post_type == "answer":
        on_event("answer", post=db.session.get(Answer, event.post_id))


def answer_accepted(event: AnswerAccepted) -> None:
    on_event("accept", post=db.session.get(Answer, event.answer_id))


def vote_cast(event: VoteCast) -> None:
    """The post's score moved (votes.py expired it, so it is read fresh here)."""
    post: Question | Answer | None = (db.session.get(Question, event.post_id) if event.post_type == "question"
                                      else db.session.get(Answer, event.post_id))
    on_event("vote", post=post, user=db.session.get(User, event.voter_id), value=event.value,
             delta=event.value - event.previous)


def flags_actioned(event: FlagsResolved) -> None:
    """Flags a moderator acted on were helpful ones; dismissed flags earn nothing."""
    if event.status == "actioned":
        on_event("flag", post=find_post(event.post_type, event.post_id))


def article_rated(event: ArticleRated) -> None:
    """Rating an article helpful may earn the rater a badge."""
    if event.helpful:
        on_event("rate", user=db.session.get(User, event.user_id))


def announce_award(event: BadgeAwarded) -> None:
    """The member hears "badge" (not for the silent backfill)."""
    if event.announce:
        award = Award(event.user_id, BY_KEY[event.badge], event.tag)
        notifications.notify([award.user_id], "badge", actor=None, subject=subject(award),
                             url=f"/badges/{award.badge.key}")
