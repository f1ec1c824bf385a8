"""Notifications: the interface every other service calls to tell members what happened.

Issue 6 builds the body of this module (rows behind the bell, e-mail through the job queue,
per-event preferences, following). Other services only ever call ``notify`` and
``notify_followers``, inside their own transaction; both must stay cheap (they only add
rows; e-mail leaves the request as a background job after commit).

Events (``event`` argument): "answer" (an answer on my question), "comment" (a comment on my
post), "accepted" (my answer was accepted), "mention" (@me), "follow" (activity on a
question I follow), "flag" (the outcome of my flag), "badge" (I earned a badge), "case"
(a private support case I am party to changed), "sla" (a question breached its first-response
target), "invite" (a question in my tags waits for an answer).
"""
from __future__ import annotations

from collections.abc import Iterable

from ..models import Question, User

EVENTS = ("answer", "comment", "accepted", "mention", "follow", "flag", "badge", "case", "sla", "invite")


def notify(recipients: Iterable[User | int], event: str, *, actor: User | None, subject: str, url: str,
           text: str = "") -> None:
    """Tell each recipient (users or user ids) about ``event``; the actor is never told of their own act.

    ``subject`` is one line ("maria_k answered your question"), ``url`` a site-relative link to
    the thing itself, ``text`` an optional plain-text excerpt. Raises ValueError for an unknown
    event. Not yet implemented: records nothing until issue 6's notification store lands.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")


def notify_followers(question: Question, event: str, *, actor: User | None, subject: str, url: str,
                     text: str = "") -> None:
    """``notify`` everyone who follows ``question`` (see ``notify`` for the arguments)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
