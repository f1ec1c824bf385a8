"""The support desk in the demo: canned replies, triaged questions and one private case."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Question, User
from ..services import canned, cases, support
from .content import SUPPORT_DESK


def seed(users: dict[str, User]) -> dict[str, int]:
    """Flushed, not committed (the demo seed commits once).

    Raises StopIteration if a title in data/support.toml matches no demo question.
    """
    desk = SUPPORT_DESK
    agent, triager, admin = users[desk["agent"]], users[desk["triager"]], users[desk["admin"]]
    for reply in desk["canned_replies"]:
        canned.create_reply(agent, canned.ReplyInput(reply["title"], reply["body"]))
    questions = {q.title: q for q in db.session.scalars(select(Question))}
    for q in questions.values():  # the demo back-dates posts after they were written
        support.recompute_first_response(q.id)

    def find(prefix: str) -> Question:
        return next(q for t, q in questions.items() if t.startswith(prefix))

    for triage in desk["triage"]:
        support.triage_question(triager, find(triage["title_starts"]), triage["type"], triage["severity"])
    support.set_on_duty(triager, True)
    support.save_playbook(admin, support.PlaybookInput(
        "outage", "critical", 1, support.DEFAULT_FIRST_REPLIES["outage"], ["agent", "moderator"], ""))
    question = find(desk["case"]["title_starts"])
    case = cases.open_case(agent, question)
    asker = question.author
    for message in desk["case"]["messages"]:
        cases.add_message(agent if message["by"] == "agent" else asker, case, message["body"])
    cases.set_status(agent, case, desk["case"]["status"])
    db.session.flush()
    return {"canned replies": len(desk["canned_replies"]), "triaged questions": len(desk["triage"]),
            "support cases": 1}
