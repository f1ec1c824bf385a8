"""Load the demo community through the same services a user goes through."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from .. import demo_content as content
from ..extensions import db
from ..models import Answer, Article, Comment, Question, ReputationEvent, Revision, Role, Tag, User, Vote
from ..models.base import utcnow
from . import accounts, answers, articles, comments, curation, fraud, questions, votes
from .permissions import can


def seed() -> dict[str, int]:
    """Create the demo users, tags, questions, answers and comments (flushed, not committed).

    Raises FieldError if the content breaks a rule (the demo data is tested against them).
    """
    now = utcnow()
    users = {}
    for spec in content.USERS:
        user = accounts.register(
            accounts.Registration(spec["username"], spec["email"], content.DEMO_PASSWORD),
            role=Role(spec["role"]), allow_reserved=True,
        )
        accounts.update_profile(user, spec["display_name"], spec["bio"])
        users[spec["username"]] = user
    for spec in content.TAGS:
        db.session.add(Tag(name=spec["name"], description=spec["description"], question_count=0))
    db.session.flush()

    counts = {"users": len(users), "tags": len(content.TAGS), "questions": 0, "answers": 0, "comments": 0}
    for qspec in content.QUESTIONS:
        asked = now - timedelta(days=qspec["days_ago"])
        q = questions.ask_question(users[qspec["author"]], questions.QuestionInput(
            qspec["title"], qspec["body"], " ".join(qspec["tags"])))
        _backdate(Question, q.id, asked, last_activity=True)
        db.session.execute(update(Revision).where(Revision.question_id == q.id).values(created_at=asked))
        counts["questions"] += 1
        latest = asked
        for cspec in qspec.get("comments", []):
            c = comments.add_comment(users[cspec["author"]], q, cspec["body"])
            when = asked + timedelta(minutes=cspec["minutes_after"])
            _backdate(Comment, c.id, when)
            latest = max(latest, when)
            counts["comments"] += 1
        for aspec in qspec.get("answers", []):
            a = answers.post_answer(users[aspec["author"]], q, aspec["body"])
            when = asked + timedelta(minutes=aspec["minutes_after"])
            _backdate(Answer, a.id, when)
            db.session.execute(update(Revision).where(Revision.answer_id == a.id).values(created_at=when))
            latest = max(latest, when)
            counts["answers"] += 1
            if aspec.get("accepted"):
                curation.accept_answer(users[qspec["author"]], a)
                db.session.execute(update(Question).where(Question.id == q.id).values(
                    accepted_at=min(when + timedelta(hours=2), now)))
            for cspec in aspec.get("comments", []):
                c = comments.add_comment(users[cspec["author"]], a, cspec["body"])
                cwhen = asked + timedelta(minutes=cspec["minutes_after"])
                _backdate(Comment, c.id, cwhen)
                latest = max(latest, cwhen)
                counts["comments"] += 1
        db.session.execute(update(Question).where(Question.id == q.id).values(last_activity_at=min(latest, now)))
    counts["votes"] = _seed_votes(list(users.values()), now)
    counts["serial votes reversed"] = _seed_serial_voter(users[content.USERS[1]["username"]])
    counts["articles"] = 0
    for spec in content.ARTICLES:
        article = articles.create_article(users[spec["author"]], articles.ArticleInput(
            spec["title"], spec["body"], " ".join(spec["tags"])))
        articles.set_state(users[spec["author"]], article, "published")
        when = now - timedelta(days=spec["days_ago"])
        db.session.execute(update(Article).where(Article.id == article.id).values(
            created_at=when, updated_at=when, published_at=when))
        counts["articles"] += 1
    db.session.flush()
    db.session.expire_all()
    return counts


def _seed_votes(members: list[User], now: datetime) -> int:
    """Votes from a rotating handful of members on every post, dated a few hours after it,
    so profiles show a reputation history and the leaderboards have a week and a month.

    Ledger rows are backdated with their votes (and acceptances with the acceptance), which
    also keeps the daily caps out of the way: each vote goes through cast_vote like a click.
    """
    for i, user in enumerate(members):  # members joined before they posted
        user.created_at = now - timedelta(days=75 + 4 * i)
    db.session.flush()
    cast = 0
    posts: list[Question | Answer] = [*db.session.scalars(select(Question).order_by(Question.id)),
                                      *db.session.scalars(select(Answer).order_by(Answer.id))]
    for n, post in enumerate(posts):
        wanted = (n * 7 + 3) % 6 + (2 if post.kind == "answer" else 0)
        offset = n % len(members)
        voters = [m for m in members[offset:] + members[:offset] if can(m, "vote", post)][:wanted]
        for k, voter in enumerate(voters):
            value = -1 if (n + k) % 11 == 0 else 1
            votes.cast_vote(voter, post.kind, post.id, value)
            when = min(post.created_at + timedelta(hours=2 + 5 * k), now)
            db.session.execute(update(Vote).where(Vote.user_id == voter.id, Vote.post_type == post.kind,
                                                  Vote.post_id == post.id).values(created_at=when, updated_at=when))
            db.session.execute(update(ReputationEvent).where(
                ReputationEvent.actor_id == voter.id, ReputationEvent.post_type == post.kind,
                ReputationEvent.post_id == post.id).values(created_at=when))
            cast += 1
    for q in db.session.scalars(select(Question).where(Question.accepted_answer_id.is_not(None))):
        db.session.execute(update(ReputationEvent).where(
            ReputationEvent.post_type == "answer", ReputationEvent.post_id == q.accepted_answer_id,
            ReputationEvent.reason.in_(("accepted", "accept"))).values(created_at=q.accepted_at))
    return cast


def _seed_serial_voter(target: User) -> int:
    """A sock puppet upvotes six of one member's posts today; the system's serial-voting sweep
    (`flask reputation reverse-serial`) reverses them, so staff see the entry in the moderation log."""
    puppet = accounts.register(accounts.Registration("lumen_fan_2026", "lumen.fan.2026@example.com",
                                                     content.DEMO_PASSWORD))
    targets = [*db.session.scalars(select(Answer).where(Answer.author_id == target.id).order_by(Answer.id)),
               *db.session.scalars(select(Question).where(Question.author_id == target.id).order_by(Question.id))]
    for post in targets[:6]:
        votes.cast_vote(puppet, post.kind, post.id, 1)
    return sum(len(r.pair.vote_ids) for r in fraud.reverse_serial(None, 5, 24))


def _backdate(model: type, row_id: int, when: object, last_activity: bool = False) -> None:
    values = {"created_at": when}
    if last_activity:
        values["last_activity_at"] = when
    db.session.execute(update(model).where(model.id == row_id).values(**values),
                       execution_options={"synchronize_session": False})
