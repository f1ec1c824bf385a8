"""A plausible month of insight data for the demo: daily deflection counts credited to the demo's
solved questions and articles, the searches behind them, and a few searches that found nothing.

Deterministic (a seeded random), and fast: one upsert per daily row, about 80 in all. Weekdays
are busier than weekends, as support traffic is. The demo's own "solved too" marks and helpful
ratings (counted today by services/deflection.py's subscribers as they are seeded) are spread
over the month.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Article, InsightDaily, Question
from ..services import deflection

DAYS = 30
# What customers typed that found nothing: content the support team could write next.
MISSED_QUERIES = (
    "hub firmware 5.1 rollback", "thermostat matter support", "doorbell chime volume schedule",
    "camera night mode ir flicker", "family sharing guest pin code", "hub battery backup replace",
    "sensor zigbee channel 26", "export energy report csv",
)


def seed(now: datetime) -> dict[str, int]:
    """Add DAYS days of insight_daily rows (searches every day before today, each kind of
    deflection on some of them) and search misses.
    Returns what was added, for the seeding summary."""
    rng = random.Random(14)
    solved = list(db.session.scalars(select(Question.id).where(Question.accepted_answer_id.is_not(None),
                                                               Question.is_visible).order_by(Question.id)))
    guides = list(db.session.scalars(select(Article.id).where(Article.state == "published").order_by(Article.id)))
    answers = [("question", i) for i in solved] + [("article", i) for i in guides]
    if not solved or not guides:
        return {"insight days": 0}
    daily: Counter[tuple[date, str, str, int]] = Counter()
    misses: Counter[tuple[date, str]] = Counter()
    # A few threads deflect far more than the rest: weight them, as the long tail does in practice.
    weights = [1.0 / (1 + n % 7) for n in range(len(answers))]
    # Sized to the demo's traffic (a question or so a day): about two in three people who came
    # with a problem found it answered, a plausible rate for a community with a help centre.
    chances = {"search": 0.35, "suggestion": 0.3, "article_helpful": 0.1, "abandon": 0.15}
    # The demo's own "solved too" marks and helpful ratings were just made, so they all count
    # today: spread them over the month as real ones would have come in.
    made_today = db.session.execute(select(InsightDaily).where(
        InsightDaily.day == now.date(), InsightDaily.kind.in_(("solved_too", "article_helpful")))).scalars().all()
    for row in made_today:
        for _ in range(row.count):
            daily[(now.date() - timedelta(days=rng.randint(1, DAYS)), row.kind, row.target_type, row.target_id)] += 1
        db.session.delete(row)
    db.session.flush()
    for back in range(1, DAYS + 1):
        day = now.date() - timedelta(days=back)
        busy = 1.0 if day.weekday() < 5 else 0.55
        daily[(day, deflection.SEARCHES, "", 0)] += int(rng.randint(15, 30) * busy)
        for kind, chance in chances.items():
            if rng.random() >= chance * busy:
                continue
            if kind == "abandon":
                daily[(day, kind, "", 0)] += 1
            elif kind == "article_helpful":
                daily[(day, kind, "article", rng.choice(guides))] += 1
            else:
                daily[(day, kind, *rng.choices(answers, weights)[0])] += 1
        for query in rng.sample(MISSED_QUERIES, k=rng.choice((0, 0, 1, 1, 2))):
            misses[(day, query)] += 1
    deflection.add_daily(daily)
    deflection.add_misses(misses)
    return {"insight days": DAYS, "deflections": sum(n for (_, kind, _, _), n in daily.items()
                                                     if kind in deflection.DEFLECTION_KINDS)}
