"""The support desk in the demo: canned replies, triaged questions and one private case."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Question, User
from . import canned, cases, support

REPLIES = [
    ("Ask for hub details", "Hi {asker}, thanks for the report. To narrow it down, could you tell us:\n\n"
     "1. the hub model (Gen 1 or Gen 2),\n2. the firmware version (Settings > Hub > About),\n"
     "3. what the status light shows right now?\n\nThe status lights are explained here: {article_link}"),
    ("Billing: moving to a private case", "Hi {asker}, sorry about this. Billing needs your account details, "
     "so I've opened a private case with you; we'll post the outcome back on {question_link}."),
    ("Known outage", "Hi {asker}, this is a known incident and our engineers are on it. Follow this question "
     "for updates: {question_link}"),
]
# (title prefix, type, severity)
TRIAGE = [
    ("Hub offline since this morning?", "outage", "critical"),
    ("Charged TWICE for Lumen Plus", "complaint", "high"),
    ("Charged $49 after cancelling", "problem", "high"),
    ("Feature request: expose sensor battery level", "feature", "low"),
    ("Beta firmware 4.4.0-beta.2", "problem", "normal"),
]
CASE_ON = "Charged $49 after cancelling"
CASE_MESSAGES = [
    ("sam", "Hi! I can see the charge. Could you confirm the last four digits of the card and the date you "
            "cancelled the trial?"),
    ("asker", "Card ending 4417. I cancelled on day 14 of the trial; I have the confirmation screenshot."),
]


def seed(users: dict[str, User]) -> dict[str, int]:
    """Flushed, not committed (the demo seed commits once)."""
    agent, admin = users["sam_brightway"], users["admin_chris"]
    for title, body in REPLIES:
        canned.create_reply(agent, canned.ReplyInput(title, body))
    questions = {q.title: q for q in db.session.scalars(select(Question))}
    for q in questions.values():  # the demo back-dates posts after they were written
        support.recompute_first_response(q.id)

    def find(prefix: str) -> Question:
        return next(q for t, q in questions.items() if t.startswith(prefix))

    for prefix, type_, severity in TRIAGE:
        support.triage_question(users["rosa_brightway"], find(prefix), type_, severity)
    support.set_on_duty(users["rosa_brightway"], True)
    support.save_playbook(admin, support.PlaybookInput(
        "outage", "critical", 1, support.DEFAULT_FIRST_REPLIES["outage"], ["agent", "moderator"], ""))
    question = find(CASE_ON)
    case = cases.open_case(agent, question)
    asker = db.session.get(User, question.author_id)
    for who, body in CASE_MESSAGES:
        cases.add_message(agent if who == "sam" else asker, case, body)
    cases.set_status(agent, case, "waiting")
    db.session.flush()
    return {"canned replies": len(REPLIES), "triaged questions": len(TRIAGE), "support cases": 1}
