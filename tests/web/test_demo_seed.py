"""`flask forum seed-demo` builds a browsable community, once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Answer, Comment, InsightDaily, Question, RelatedQuestion, SearchMissDaily, User
from forum.models.base import utcnow
from forum.services.deflection import DEFLECTION_KINDS, SEARCHES


def test_seed_demo_loads_a_community_and_pages_render(runner, client) -> None:
    r = runner.invoke(args=["forum", "seed-demo", "--if-empty"])
    assert r.exit_code == 0, r.output
    count = lambda model: db.session.scalar(select(func.count(model.id)))  # noqa: E731
    assert count(Question) >= 28 and count(Answer) >= 30 and count(Comment) >= 20
    assert {u.role for u in db.session.scalars(select(User))} == {"member", "agent", "moderator", "admin"}
    for q in db.session.scalars(select(Question)):
        real = db.session.scalar(select(func.count(Answer.id)).where(Answer.question_id == q.id))
        assert q.answer_count == real
        assert q.last_activity_at >= q.created_at
    first = db.session.scalar(select(func.min(Question.id)))
    for path in ("/", "/questions", "/questions?tab=unanswered", "/tags", f"/questions/{first}", "/articles"):
        assert client.get(path, follow_redirects=True).status_code == 200
    # Related questions were stored once the demo was indexed, not against an empty index.
    with_neighbours = db.session.scalar(select(func.count(func.distinct(RelatedQuestion.question_id)))
                                        .where(RelatedQuestion.rank >= 0))
    assert with_neighbours >= count(Question) // 2
    # A month of insight data: searches on each of the 30 days before today, every kind of
    # deflection, credited to solved questions and published articles, at a plausible rate
    # against the questions asked that month, and a few searches that found nothing.
    days = dict(db.session.execute(select(InsightDaily.kind, func.count(func.distinct(InsightDaily.day)))
                                   .group_by(InsightDaily.kind)).all())  # type: ignore[arg-type]
    assert days[SEARCHES] == 30 and set(days) == {*DEFLECTION_KINDS, SEARCHES}
    month = utcnow() - timedelta(days=30)
    deflected = db.session.scalar(select(func.sum(InsightDaily.count)).where(InsightDaily.kind.in_(DEFLECTION_KINDS)))
    asked = db.session.scalar(select(func.count()).select_from(Question).where(Question.created_at >= month))
    assert 0.4 <= deflected / (deflected + asked) <= 0.85, (deflected, asked)
    unsolved = db.session.scalar(select(func.count()).select_from(InsightDaily).join(
        Question, (InsightDaily.target_type == "question") & (InsightDaily.target_id == Question.id))
        .where(Question.accepted_answer_id.is_(None)))
    assert unsolved == 0
    assert db.session.scalar(select(func.count()).select_from(SearchMissDaily)) >= 5
    before = count(Question)
    again = runner.invoke(args=["forum", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "already has users" in again.output
    assert count(Question) == before


def test_demo_accounts_can_log_in(runner, auth) -> None:
    from forum.demo.content import DEMO_PASSWORD, USERS

    runner.invoke(args=["forum", "seed-demo"])
    assert auth.login(USERS[0]["username"], DEMO_PASSWORD).status_code == 302


def test_rerender_refreshes_stale_html(runner, make_question) -> None:
    q = make_question(body="Some **bold** words in the body text.")
    q.body_html = "<p>stale</p>"
    q.render_version = 0
    db.session.commit()
    r = runner.invoke(args=["forum", "rerender"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert "<strong>bold</strong>" in db.session.get(Question, q.id).body_html
