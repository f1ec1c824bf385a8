"""Profiles and leaderboards read from the ledger: periods, visibility, history, chart geometry."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from forum.charts import line_chart, nice_step
from forum.extensions import db
from forum.models import Answer, ReputationEvent, User
from forum.models.base import utcnow
from forum.services import curation, profiles, votes

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=timezone.utc)  # a Wednesday: the week began on Monday the 16th


def _upvotes(post, voters, when: datetime) -> None:
    for v in voters:
        votes.cast_vote(v, post.kind, post.id, 1)
    db.session.execute(update(ReputationEvent).where(ReputationEvent.post_id == post.id,
                                                     ReputationEvent.post_type == post.kind).values(created_at=when))
    db.session.commit()


@pytest.fixture
def scene(make_user, make_question, make_answer):
    """week_star gains 20 this week; month_star 30 earlier this month; veteran 50 last month."""
    week_star, month_star, veteran = make_user("week_star"), make_user("month_star"), make_user("veteran")
    voters = [make_user(f"fan{i}") for i in range(5)]
    q = make_question(author=voters[0])
    _upvotes(make_answer(q, author=week_star), voters[1:3], datetime(2026, 11, 17, 9, tzinfo=timezone.utc))
    _upvotes(make_answer(q, author=month_star), voters[1:4], datetime(2026, 11, 10, 9, tzinfo=timezone.utc))
    _upvotes(make_answer(q, author=veteran), voters[:5][1:] + [make_user()], datetime(2026, 10, 20, 9, tzinfo=timezone.utc))
    return {"week": week_star, "month": month_star, "veteran": veteran}


def _names(board: profiles.Board) -> list[tuple[str, int]]:
    return [(m.user.username, m.gained) for m in board.page.items]


def test_leaderboards_sum_the_ledger_for_the_calendar_week_and_month(scene) -> None:
    assert _names(profiles.leaderboard("week", 1, now=NOW)) == [("week_star", 20)]
    assert _names(profiles.leaderboard("month", 1, now=NOW)) == [("month_star", 30), ("week_star", 20)]
    everyone = _names(profiles.leaderboard("all", 1, now=NOW))
    assert everyone[:3] == [("veteran", 51), ("month_star", 31), ("week_star", 21)]
    assert {rep for _, rep in everyone[3:]} == {1}
    assert profiles.leaderboard("week", 1, now=NOW).since == datetime(2026, 11, 16, tzinfo=timezone.utc)
    assert profiles.leaderboard("bogus", 1, now=NOW).period == "week"


def test_a_member_who_lost_reputation_this_week_is_not_listed_for_it(scene, make_user, make_question, make_answer) -> None:
    loser = make_user("loser")
    a = make_answer(make_question(), author=loser)
    votes.cast_vote(make_user(), "answer", a.id, -1)
    db.session.execute(update(ReputationEvent).where(ReputationEvent.user_id == loser.id)
                       .values(created_at=datetime(2026, 11, 17, tzinfo=timezone.utc)))
    db.session.commit()
    assert "loser" not in [n for n, _ in _names(profiles.leaderboard("week", 1, now=NOW))]


def test_leaderboard_name_search_treats_wildcards_literally(scene, make_user) -> None:
    make_user("under_score")
    assert _names(profiles.leaderboard("all", 1, "STAR", now=NOW)) == [("month_star", 31), ("week_star", 21)]
    assert [n for n, _ in _names(profiles.leaderboard("all", 1, "_", now=NOW))] == ["month_star", "week_star", "under_score"]
    assert _names(profiles.leaderboard("all", 1, "%", now=NOW)) == []
    assert _names(profiles.leaderboard("month", 1, "week", now=NOW)) == [("week_star", 20)]


def test_leaderboard_pages_are_bounded_and_stable(make_user) -> None:
    for i in range(profiles.LEADERBOARD_PER_PAGE + 3):
        make_user(f"member{i:02d}")
    first = profiles.leaderboard("all", 1).page
    second = profiles.leaderboard("all", 2).page
    assert len(first.items) == profiles.LEADERBOARD_PER_PAGE and len(second.items) == 3
    assert first.total == profiles.LEADERBOARD_PER_PAGE + 3
    ids = [m.user.id for m in first.items + second.items]
    assert ids == sorted(ids)  # equal reputation: the earlier member first


def test_profile_counts_only_visible_answers_and_accepted_ones(make_user, make_question, make_answer) -> None:
    member = make_user()
    q1, q2, q3 = make_question(tags="wifi setup"), make_question(tags="wifi"), make_question(tags="billing")
    a1, a2 = make_answer(q1, author=member), make_answer(q2, author=member)
    hidden = make_answer(q3, author=member)
    curation.accept_answer(q1.author, a1)
    hidden.hidden_at = utcnow()
    make_question(author=member)
    db.session.commit()
    for v in [make_user() for _ in range(3)]:
        votes.cast_vote(v, "answer", a2.id, 1)
    votes.cast_vote(make_user(), "answer", a1.id, 1)
    db.session.commit()
    assert profiles.profile_stats(member) == profiles.ProfileStats(answers=2, accepted=1, questions=1)
    assert profiles.top_tags(member) == [profiles.TagScore("wifi", 4, 2), profiles.TagScore("setup", 1, 1)]
    page = profiles.answers_by(member, 1)
    assert [a.id for a in page.items] == [a2.id, a1.id] and page.total == 2


def test_history_is_cumulative_from_the_ledger_and_ends_at_the_reputation(make_user, make_question, make_answer) -> None:
    member = make_user()
    member.created_at = NOW - timedelta(days=400)
    db.session.commit()
    q = make_question()
    old, recent = make_answer(q, author=member), make_answer(q, author=member)
    _upvotes(old, [make_user(), make_user()], NOW - timedelta(days=200))  # before the window: in the start value
    _upvotes(recent, [make_user()], NOW - timedelta(days=3))
    curation.accept_answer(q.author, recent)
    db.session.execute(update(ReputationEvent).where(ReputationEvent.reason == "accepted")
                       .values(created_at=NOW - timedelta(days=1)))
    db.session.commit()
    history = profiles.reputation_history(member, NOW)
    assert len(history.days) == profiles.HISTORY_DAYS and history.days[-1] == date(2026, 11, 18)
    assert history.start == 21 and history.totals[-1] == db.session.get(User, member.id).reputation == 46
    assert history.moves() == [(date(2026, 11, 17), 15, 46), (date(2026, 11, 15), 10, 31)]
    assert history.best == (date(2026, 11, 17), 15)
    assert history.summary() == ("Reputation went from 21 to 46 between 21 Aug and 18 Nov 2026 (+25). "
                                 "Best day: 17 Nov, +15.")


def test_history_of_a_new_member_starts_on_the_day_they_joined(make_user) -> None:
    member = make_user()
    member.created_at = NOW - timedelta(days=2, hours=3)
    db.session.commit()
    history = profiles.reputation_history(member, NOW)
    assert history.days == [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)]
    assert history.totals == [1, 1, 1] and history.best is None


def test_chart_axes_cover_the_values_and_label_the_days() -> None:
    days = [date(2026, 9, 1) + timedelta(days=i) for i in range(90)]
    values = [1 + 3 * i for i in range(90)]
    chart = line_chart(days, values)
    labels = [int(t.label.replace(",", "")) for t in chart.y_ticks]
    assert labels[0] <= 1 and labels[-1] >= values[-1] and len(labels) <= 6
    ys = [t.pos for t in chart.y_ticks]
    assert ys == sorted(ys, reverse=True)  # higher values are drawn higher up
    assert [t.label for t in chart.x_ticks][0] == "01 Sep" and chart.x_ticks[-1].label == "29 Nov"
    assert chart.line.startswith(f"M{chart.left},") and chart.line.count("L") == 89
    assert chart.last[0] == chart.right and chart.top <= chart.last[1] < ys[-2]  # the last value is above the 200 line
    flat = line_chart([date(2026, 11, 18)], [1])
    assert flat.line.count("L") == 1 and [t.label for t in flat.x_ticks] == ["18 Nov"]
    assert [nice_step(s) for s in (0, 7, 40, 400, 1300)] == [1, 2, 10, 100, 500]
    with pytest.raises(ValueError):
        line_chart([], [])


def test_answers_by_skips_answers_in_deleted_questions(make_user, make_question, make_answer) -> None:
    member = make_user()
    q = make_question()
    a = make_answer(q, author=member)
    q.deleted_at = utcnow()
    db.session.commit()
    assert profiles.answers_by(member, 1).items == [] and profiles.profile_stats(member).answers == 0
    assert db.session.get(Answer, a.id) is not None
