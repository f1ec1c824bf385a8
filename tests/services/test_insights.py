"""/insights figures against hand computations (SQLite and PostgreSQL), the filter's checks,
the query budget, and the weekly report e-mail."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, insert, text, update

from forum.extensions import db
from forum.models import (
    Flag,
    InsightDaily,
    InsightMailSent,
    NotificationPreference,
    OutboxMail,
    Question,
    SearchMissDaily,
    SupportCase,
)
from forum.services import insights, notifications
from forum.services.errors import FieldError, FieldErrors
from forum.services.insights_report import reported_week, send_weekly_reports
from tests.support import Auth

DAY = date(2026, 3, 2)  # a Monday
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
H = 3600.0


def _at(q: Any, created: datetime, first: float | None = None, accepted: float | None = None) -> None:
    """Put a question at ``created`` with a first response and acceptance ``first``/``accepted`` hours later."""
    db.session.execute(update(Question).where(Question.id == q.id).values(
        created_at=created, first_response_at=None if first is None else created + timedelta(hours=first),
        accepted_at=None if accepted is None else created + timedelta(hours=accepted)))
    db.session.commit()


def _filter(start: date = DAY, end: date | None = None, tags: tuple[str, ...] = ()) -> insights.InsightsFilter:
    return insights.parse_filter(start.isoformat(), (end or start + timedelta(days=6)).isoformat(), " ".join(tags))


@pytest.fixture
def five(make_user: Callable[..., Any], make_question: Callable[..., Any]) -> list[Any]:
    """Five questions on Monday 2 March 2026 answered after 1, 2, 3, 4 and 10 hours."""
    qs = [make_question(tags="setup") for _ in range(5)]
    for i, (q, h) in enumerate(zip(qs, (1, 2, 3, 4, 10), strict=True)):
        _at(q, T0 + timedelta(minutes=i), first=h)
    return qs


def test_first_response_median_and_p90_by_hand(five: list[Any], make_question: Callable[..., Any]) -> None:
    # Unanswered and outside the range: counted as asked / not counted at all.
    _at(make_question(tags="setup"), T0 + timedelta(hours=1))
    _at(make_question(tags="setup"), T0 - timedelta(days=1), first=100)
    page = insights.insights_page(_filter())
    assert page.asked == 6 and page.responded == 5
    # Sorted 1, 2, 3, 4, 10 h: median the 3rd; p90 at position 0.9 × 4 = 3.6 → 4 + 0.6 × (10 − 4) = 7.6 h.
    assert page.first_response_median == pytest.approx(3 * H)
    assert page.first_response_p90 == pytest.approx(7.6 * H)
    assert insights.hours(page.first_response_p90) == "7.6 h"


def test_even_count_interpolates_and_both_backends_agree(make_question: Callable[..., Any]) -> None:
    for i, h in enumerate((1, 2, 4, 8)):
        _at(make_question(), T0 + timedelta(minutes=i), first=h)
    page = insights.insights_page(_filter())
    assert page.first_response_median == pytest.approx(3 * H)  # between 2 and 4
    assert page.first_response_p90 == pytest.approx(6.8 * H)  # 0.9 × 3 = 2.7 → 4 + 0.7 × 4


def test_outcomes_targets_and_community_share(make_user: Callable[..., Any], make_question: Callable[..., Any],
                                              make_answer: Callable[..., Any]) -> None:
    agent = make_user(role="agent")
    member = make_user()
    # Default playbook (untriaged: question/normal) is 24 h.
    quick, slow, solved_by_staff, solved_by_member = (make_question() for _ in range(4))
    a_staff = make_answer(solved_by_staff, author=agent)
    a_member = make_answer(solved_by_member, author=member)
    for q, a in ((solved_by_staff, a_staff), (solved_by_member, a_member)):
        db.session.execute(update(Question).where(Question.id == q.id).values(accepted_answer_id=a.id))
    _at(quick, T0, first=2)
    _at(slow, T0, first=30)
    _at(solved_by_staff, T0, first=1, accepted=5)
    _at(solved_by_member, T0, first=3, accepted=9)
    hidden = make_question()
    _at(hidden, T0, first=1)
    db.session.execute(update(Question).where(Question.id == hidden.id).values(hidden_at=T0))
    db.session.commit()
    page = insights.insights_page(_filter())
    assert page.asked == 4  # the hidden one is not counted
    assert page.within_target == 3 and page.within_target_share == pytest.approx(0.75)
    assert page.unanswered == 2 and page.solved == 2
    assert page.community_accepted == 1 and page.community_share == pytest.approx(0.5)
    assert page.accepted_median == pytest.approx(7 * H)  # 5 h and 9 h


def test_escalations_and_flags(make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    agent = make_user(role="agent")
    q = make_question()
    _at(q, T0)
    for opened, resolved in ((T0, T0 + timedelta(hours=4)), (T0 + timedelta(days=1), None),
                             (T0 - timedelta(days=3), T0)):
        on = make_question()  # one case per question
        db.session.add(SupportCase(question_id=on.id, asker_id=on.author_id, opened_by_id=agent.id, opened_at=opened,
                                   resolved_at=resolved, status="resolved" if resolved else "open",
                                   context_title="t", context_body="b", context_body_html="<p>b</p>"))
    for i, (status, outcome) in enumerate((("pending", ""), ("actioned", "A moderator hid the post."),
                                           ("actioned", "A moderator hid the post."))):
        db.session.add(Flag(post_type="question", post_id=q.id, flagger_id=make_user().id, reason="spam",
                            status=status, outcome=outcome, created_at=T0 + timedelta(hours=i)))
    db.session.commit()
    page = insights.insights_page(_filter())
    assert (page.escalations, page.escalations_resolved) == (2, 1)
    assert page.resolution_median == pytest.approx(4 * H)
    assert [(r.status, r.outcome, r.count) for r in page.flags] == [
        ("actioned", "A moderator hid the post.", 2), ("pending", "", 1)]


def _daily(kind: str, n: int, day: date = DAY, target_type: str = "", target_id: int = 0) -> None:
    db.session.execute(insert(InsightDaily).values(day=day, kind=kind, target_type=target_type, target_id=target_id,
                                                   count=n))


def test_deflection_rate_and_savings_to_the_cent(make_question: Callable[..., Any]) -> None:
    """20 asks, 10 deflections: rate 10 ÷ 30 = 33.3%, savings 10 × ($3.50 − $0.35) = $31.50."""
    qs = [make_question() for _ in range(20)]
    for q in qs:
        _at(q, T0)
    _daily("suggestion", 4, target_type="question", target_id=qs[0].id)
    _daily("search", 3, DAY + timedelta(days=2), "question", qs[1].id)
    _daily("abandon", 3)
    _daily("searches", 50)
    _daily("suggestion", 99, DAY + timedelta(days=7), "question", qs[0].id)  # outside the range
    db.session.commit()
    page = insights.insights_page(_filter(), insights.Costs(350, 35))
    assert page.deflected == 10 and page.searches == 50
    assert insights.percent(page.deflection_rate) == "33.3%"
    assert page.savings_cents == 3150
    assert insights.savings_formula(page) == "10 × ($3.50 − $0.35) = $31.50"
    assert [(t.target_id, t.count) for t in page.top_targets] == [(qs[0].id, 4), (qs[1].id, 3)]
    assert page.top_targets[0].path and page.top_targets[0].path.startswith(f"/questions/{qs[0].id}")
    assert [w.deflected for w in page.weeks] == [10]


def test_tag_filter(make_question: Callable[..., Any]) -> None:
    hub = [make_question(tags="hub") for _ in range(2)]
    other = make_question(tags="billing")
    for i, q in enumerate([*hub, other]):
        _at(q, T0, first=i + 1)
    _daily("suggestion", 5, target_type="question", target_id=hub[0].id)
    _daily("suggestion", 7, target_type="question", target_id=other.id)
    _daily("abandon", 11)
    db.session.commit()
    page = insights.insights_page(_filter(tags=("hub",)))
    assert page.asked == 2 and page.first_response_median == pytest.approx(1.5 * H)
    assert page.deflected == 5 and page.searches is None  # untargeted kinds need no tag filter
    everything = insights.insights_page(_filter())
    assert everything.asked == 3 and everything.deflected == 23


def test_slow_tags_zero_results_and_weeks(make_question: Callable[..., Any]) -> None:
    for h in (1, 2, 3):
        _at(make_question(tags="hub"), T0, first=h)
    for h in (5, 6, 9):
        _at(make_question(tags="billing"), T0 + timedelta(days=7), first=h)
    _at(make_question(tags="rare"), T0, first=50)  # one response: below the minimum sample
    for day, query, n in ((DAY, "zigbee", 3), (DAY + timedelta(days=8), "zigbee", 2), (DAY, "warranty", 4),
                          (DAY - timedelta(days=1), "old", 9)):
        db.session.execute(insert(SearchMissDaily).values(day=day, query=query, count=n))
    db.session.commit()
    page = insights.insights_page(_filter(end=DAY + timedelta(days=13)))
    assert [(t.tag, t.median_seconds / H, t.responded) for t in page.slow_tags] == [("billing", 6, 3), ("hub", 2, 3)]
    assert page.zero_results == [("zigbee", 5), ("warranty", 4)]
    assert [(w.week, w.asked, w.median_first_response) for w in page.weeks] == [
        (DAY, 4, 2.5 * H), (DAY + timedelta(days=7), 3, 6 * H)]


def test_tables_follow_the_page(five: list[Any]) -> None:
    page = insights.insights_page(_filter())
    t = insights.tables(page)
    assert list(t) == list(insights.TABLE_NAMES)
    summary = dict((str(a), str(b)) for a, b in t["summary"].rows)
    assert summary["Time to first response, median"] == "3.0 h"
    assert insights.csv_rows(t["weekly"])[0][0] == "Week (Monday)"


def test_query_budget_does_not_grow_with_the_range(five: list[Any], count_queries: Callable[[], Any]) -> None:
    f_week = _filter()
    f_year = _filter(start=DAY - timedelta(days=300), end=DAY + timedelta(days=60))
    with count_queries() as short:
        insights.insights_page(f_week)
    with count_queries() as long:
        insights.insights_page(f_year)
    assert short.count == long.count <= 14, long.statements


@pytest.mark.parametrize(("start", "end", "tags", "field", "words"), [
    ("2026-02-30", "", "", "start", "YYYY-MM-DD"),
    ("2026-03-09", "2026-03-02", "", "end", "before the start"),
    ("2025-01-01", "2026-03-02", "", "end", "at most 366 days"),
    ("", "", "nosuchtag", "tags", "No tag named"),
])
def test_bad_filters(app: Any, start: str, end: str, tags: str, field: str, words: str) -> None:
    with pytest.raises(FieldError) as caught:
        insights.parse_filter(start, end, tags)
    assert caught.value.field == field and words in caught.value.message


def test_several_bad_fields_at_once(app: Any) -> None:
    with pytest.raises(FieldErrors) as caught:
        insights.parse_filter("yesterday", "soon", "")
    assert [e.field for e in caught.value.each()] == ["start", "end"]


def test_default_range_is_the_last_28_days(app: Any) -> None:
    f = insights.parse_filter(today=date(2026, 3, 28))
    assert (f.start, f.end, f.days) == (date(2026, 3, 1), date(2026, 3, 28), 28)


# --------------------------------------------------------------------------- the weekly report

def test_weekly_report_sent_once_to_opted_in_staff_with_the_figures(
        make_user: Callable[..., Any], make_question: Callable[..., Any]) -> None:
    reader = make_user("reader", role="agent")
    notifications.save_preferences(reader, in_app=[], email=[], digest=False, weekly_report=True)
    make_user("quiet", role="agent")  # never opted in
    member = make_user("nosy")
    db.session.add(NotificationPreference(user_id=member.id, event="weekly_report", in_app=False, email=True))
    db.session.commit()
    last, before = DAY + timedelta(days=7), DAY  # weeks of 9 and 2 March 2026
    for i, h in enumerate((1, 3)):
        _at(make_question(), datetime.combine(last, T0.timetz()) + timedelta(hours=i), first=h)
    _at(make_question(), T0, first=4)
    _daily("search", 5, last + timedelta(days=1), "question", 1)
    _daily("search", 2, before + timedelta(days=3), "question", 1)
    db.session.commit()

    now = datetime(2026, 3, 16, 6, 0, tzinfo=timezone.utc)  # the Monday after
    assert reported_week(now) == last
    run = send_weekly_reports(now)
    db.session.commit()
    assert (run.week, run.sent) == (last, 1)
    mails = db.session.query(OutboxMail).filter_by(event="weekly_report").all()
    assert [m.user_id for m in mails] == [reader.id]
    text = mails[0].text
    assert "Questions asked: 2 (week before: 1; change +1)" in text
    assert "First response, median: 2.0 h (week before: 4.0 h; change −2.0 h)" in text
    assert "Deflected: 5 (week before: 2; change +3)" in text
    assert "Deflection rate: 71.4% (week before: 66.7%; change +4.8 points)" in text
    assert "Estimated savings: $15.75 (week before: $6.30; change +$9.45)" in text
    assert "5 × ($3.50 − $0.35) = $15.75" in text
    # Later runs that week (the worker's Monday ticks, cron) send nothing more.
    assert send_weekly_reports(now + timedelta(hours=5)).sent == 0
    db.session.commit()
    assert db.session.query(OutboxMail).filter_by(event="weekly_report").count() == 1
    assert db.session.query(InsightMailSent).filter_by(user_id=reader.id, kind="weekly_report",
                                                       period_start=last).count() == 1
    # The next week's report is a new one.
    assert send_weekly_reports(now + timedelta(days=7)).sent == 1


def test_weekly_report_command(runner: Any, make_user: Callable[..., Any]) -> None:
    result = runner.invoke(args=["insights", "weekly-report"])
    assert result.exit_code == 0 and "sent 0" in result.output


# --------------------------------------------------------------------------- a year at 100k questions

BIG_QUESTIONS = 100_000
EVENT_TABLES = ("deflection_events", "insight_daily", "search_misses_daily")


def _nodes(plan: dict[str, Any]) -> Any:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.postgres  # the [sqlite] copy is deselected (tests/conftest.py)
def test_a_year_at_100k_questions_reads_no_event_table_sequentially(
        app: Any, client: Any, make_user: Callable[..., Any]) -> None:
    """Every statement /insights sends (default range and with a tag) uses indexes on the event
    tables: EXPLAIN shows no Seq Scan of deflection_events, insight_daily or search_misses_daily."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    try:
        _a_year_of_data(make_user)
        _explain_every_statement(client)
    finally:  # DELETE of 40k answers checks each against questions.accepted_answer_id (no index): truncate
        db.session.rollback()
        with db.engine.begin() as c:
            c.execute(text("TRUNCATE questions, answers, comments, question_tags, tags, support_cases, flags, "
                           + ", ".join(EVENT_TABLES) + " CASCADE"))


def _a_year_of_data(make_user: Callable[..., Any]) -> None:
    author, agent = make_user(), make_user("bigagent", role="agent")
    conn = db.session.connection()
    conn.execute(text("INSERT INTO tags (name, description, question_count, created_at) "
                      "SELECT 'tag' || t, '', :n / 20, now() FROM generate_series(1, 20) t"), {"n": BIG_QUESTIONS})
    # A year of questions, newest now; 90% answered after 0-49 h, every 50th unanswered.
    conn.execute(text("""
        INSERT INTO questions (author_id, title, body, body_html, render_version, score, answer_count,
                               created_at, last_activity_at, close_note, hidden_reason, lock_reason,
                               first_response_at)
        SELECT :author, 'Question number ' || g, 'Body', '<p>Body</p>', 0, 0, CASE WHEN g % 10 = 0 THEN 0 ELSE 1 END,
               now() at time zone 'utc' - g * interval '315 seconds', now() at time zone 'utc', '', '', '',
               CASE WHEN g % 10 <> 0 THEN now() at time zone 'utc' - g * interval '315 seconds'
                                          + (g % 50) * interval '1 hour' END
        FROM generate_series(1, :n) g"""), {"author": author.id, "n": BIG_QUESTIONS})
    conn.execute(text("INSERT INTO question_tags (question_id, tag_id, created_at) "
                      "SELECT q.id, t.id, q.created_at FROM questions q JOIN tags t ON t.name = 'tag' || (1 + q.id % 20)"))
    # 40% solved, by staff or the community.
    conn.execute(text("""
        INSERT INTO answers (question_id, author_id, body, body_html, render_version, score, created_at, hidden_reason)
        SELECT id, CASE WHEN id % 2 = 0 THEN :agent ELSE :author END, 'A', '<p>A</p>', 0, 0, first_response_at, ''
        FROM questions WHERE id % 5 < 2 AND first_response_at IS NOT NULL"""),
                 {"agent": agent.id, "author": author.id})
    conn.execute(text("UPDATE questions q SET accepted_answer_id = a.id, accepted_at = a.created_at + interval '2 hours' "
                      "FROM answers a WHERE a.question_id = q.id"))
    conn.execute(text("""
        INSERT INTO support_cases (question_id, asker_id, opened_by_id, status, opened_at, resolved_at,
                                   context_title, context_body, context_body_html, context_tags)
        SELECT id, author_id, :agent, 'resolved', created_at + interval '1 hour', created_at + interval '9 hours',
               't', 'b', '<p>b</p>', '' FROM questions WHERE id % 50 = 7"""), {"agent": agent.id})
    conn.execute(text("""
        INSERT INTO flags (post_type, post_id, flagger_id, reason, note, status, outcome, created_at)
        SELECT 'question', id, :agent, 'spam', '', 'pending', '', created_at FROM questions WHERE id % 20 = 3"""),
                 {"agent": agent.id})
    # A year of daily counts: 5 kinds x 60 threads, plus searches, and 150 missed queries a day.
    conn.execute(text("""
        INSERT INTO insight_daily (day, kind, target_type, target_id, count)
        SELECT d::date, k, CASE WHEN k = 'abandon' THEN '' ELSE 'question' END,
               CASE WHEN k = 'abandon' THEN 0 ELSE (SELECT min(id) FROM questions) + t * 97 END, 1 + t % 4
        FROM generate_series(current_date - 365, current_date, interval '1 day') d,
             unnest(ARRAY['suggestion', 'search', 'solved_too', 'article_helpful', 'abandon']) k,
             generate_series(1, 60) t
        ON CONFLICT DO NOTHING"""))
    conn.execute(text("INSERT INTO insight_daily (day, kind, target_type, target_id, count) "
                      "SELECT d::date, 'searches', '', 0, 500 "
                      "FROM generate_series(current_date - 365, current_date, interval '1 day') d"))
    conn.execute(text("INSERT INTO search_misses_daily (day, query, count) "
                      "SELECT d::date, 'missing query ' || q, 1 + q % 5 "
                      "FROM generate_series(current_date - 365, current_date, interval '1 day') d, "
                      "generate_series(1, 150) q"))
    conn.execute(text("""
        INSERT INTO deflection_events (created_at, kind, status, target_type, target_id)
        SELECT now() at time zone 'utc' - g * interval '10 minutes', 'search', 'deflected', 'question', g
        FROM generate_series(1, 20000) g"""))
    db.session.commit()
    with db.engine.connect() as c:
        for table in ("questions", "question_tags", "answers", "users", "support_cases", "flags", "tags",
                      *EVENT_TABLES):
            c.execute(text(f"ANALYZE {table}"))
        c.commit()



def _explain_every_statement(client: Any) -> None:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "(SELECT")):
            seen.append((statement, parameters))

    Auth(client).login("bigagent")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for path in ("/insights", "/insights?tags=tag3+tag7"):
            answer = client.get(path)
            assert answer.status_code == 200, path
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any("insight_daily" in s for s, _ in seen) and any("search_misses_daily" in s for s, _ in seen)
    plans = db.session.connection()
    indexed: set[str] = set()
    for statement, parameters in seen:
        plan = plans.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()[0]["Plan"]
        scans = [n["Relation Name"] for n in _nodes(plan)
                 if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in EVENT_TABLES]
        assert not scans, (scans, statement)
        indexed |= {n["Relation Name"] for n in _nodes(plan) if n.get("Relation Name") in EVENT_TABLES}
    assert indexed == {"insight_daily", "search_misses_daily"}  # read, through their indexes


def test_bar_chart_geometry() -> None:
    from forum.charts import bar_chart

    chart = bar_chart(["02 Mar", "09 Mar", "16 Mar"], [4.0, None, 8.0])
    assert [t.label for t in chart.y_ticks][0] == "0" and chart.y_ticks[-1].label == "8"
    full = chart.bottom - chart.top
    assert [round(b.height / full, 2) for b in chart.bars] == [0.5, 0.0, 1.0]
    assert [t.label for t in chart.x_ticks] == ["02 Mar", "09 Mar", "16 Mar"]
