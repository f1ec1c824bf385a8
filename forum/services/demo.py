"""Load the demo community through the same services a user goes through."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from .. import demo_content as content
from ..extensions import db
from ..models import Answer, Article, Comment, Question, Revision, Role, Tag, UserBadge
from ..models.base import utcnow
from . import accounts, answers, articles, badges, comments, curation, questions


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
    counts["articles"] = 0
    for spec in content.ARTICLES:
        article = articles.create_article(users[spec["author"]], articles.ArticleInput(
            spec["title"], spec["body"], " ".join(spec["tags"])))
        articles.set_state(users[spec["author"]], article, "published")
        when = now - timedelta(days=spec["days_ago"])
        db.session.execute(update(Article).where(Article.id == article.id).values(
            created_at=when, updated_at=when, published_at=when))
        counts["articles"] += 1
        # A few customers found each guide helpful (the article's counter and a "Well Read" badge).
        for spec_user in [u for u in content.USERS if u["role"] == "member"][:3]:
            articles.rate_article(users[spec_user["username"]], article, True)
    db.session.flush()
    # Events award most badges as the content goes in; the pass catches the rest (backdated rows).
    badges.award_all()
    counts["badges"] = db.session.scalar(select(func.count(UserBadge.id))) or 0
    db.session.expire_all()
    return counts


def _backdate(model: type, row_id: int, when: object, last_activity: bool = False) -> None:
    values = {"created_at": when}
    if last_activity:
        values["last_activity_at"] = when
    db.session.execute(update(model).where(model.id == row_id).values(**values),
                       execution_options={"synchronize_session": False})
