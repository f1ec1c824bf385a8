"""Checks on every new post: rate limits, watched words, links from new members.

``check_new_post`` runs inside ask_question / post_answer / add_comment, before anything is
stored. Suspended and silenced authors never get here: the "ask", "answer" and "comment"
rules refuse them first (PermissionDenied).

Who is a *new member* is decided in services/membership.py (low reputation and few visible
posts; staff never). A new member's post that links to another site goes to the
review queue (stored hidden with ``hidden_reason="review"``). A "link" is ``http://`` or
``https://`` anywhere, a bare ``www.`` address, or a Markdown link / reference whose target
is absolute (``[x](ftp://…)``, ``[x](//host)``); relative links into the forum
(``[guide](/articles/x)``) are not held.

Rate limits count the author's posts of the same kind created in the last
``POST_RATE_WINDOW_MINUTES`` (deleted and hidden ones included, except those still held for
review) straight from the database,
so they hold across processes and hosts without Redis. The count is exact under concurrency:
before counting, the posting transaction takes a lock per author (``lock_author``) that it
holds until it commits, so the posts of one author are counted one after another and 20 sent
at once with a limit of 10 store exactly 10. Posts still held for review don't count: a new
member whose link is waiting for a moderator is not slowed down by it. The review queue has a
cap of its own instead: a member with ``REVIEW_MAX_PENDING_PER_MEMBER`` posts (of any kind)
waiting for review can't send another post that would be held (RateLimited, the text kept),
so a spammer whose every post is held cannot fill the moderators' queue. Posts that publish
at once are not refused by it. Both counts are taken under the author's lock.

Watched words match case-insensitively, as whole words or phrases (``"free money"`` matches
"FREE  money!" but not "freemoney"). "block" refuses the post with a FieldError on the body;
"review" holds it for review. Blocked words apply to everyone, staff included; staff posts
are never held for review nor rate limited. Moderators manage the list with
``add_watched_word`` / ``remove_watched_word`` (each change is logged).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Literal

from flask import current_app, has_app_context
from sqlalchemy import func, select

from ..extensions import db
from ..models import Answer, Comment, Question, User, WatchedWord
from ..models.base import utcnow
from ..pagecache.tables import kept
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound, RateLimited
from .links import link_hosts
from .membership import is_new_member
from .permissions import require

Verdict = Literal["publish", "review"]

WATCH_ACTIONS = ("block", "review")
KIND_MODELS: dict[str, type[Question] | type[Answer] | type[Comment]] = {
    "question": Question, "answer": Answer, "comment": Comment,
}
ROLE_CLASS_LABELS = {"new_member": "new members", "member": "members"}

LINK_RE = re.compile(
    r"https?://"                                   # any absolute web address
    r"|(?<![\w.@/-])www\.[a-z0-9-]+\.[a-z]"         # bare www.example.com
    r"|\]\(\s*<?\s*(?:[a-z][a-z0-9+.-]*:|//)"       # [text](scheme:...) or [text](//host)
    r"|^\s{0,3}\[[^\]]+\]:\s*<?\s*(?:[a-z][a-z0-9+.-]*:|//)",  # [ref]: scheme:...
    re.IGNORECASE | re.MULTILINE,
)


def has_link(text: str) -> bool:
    """Whether ``text`` links to another site (see the module docstring).

    Full URLs on this site's own hosts (SITE_URL, LINK_HOSTS) are links into the forum,
    like relative ones: a new member pasting a thread's address is not sent to review.
    """
    if has_app_context():
        hosts = "|".join(re.escape(h) for h in sorted(link_hosts()))
        if hosts:
            text = re.sub(rf"https?://(?:{hosts})(?=[/?#\s)\]>]|$)", "", text, flags=re.IGNORECASE)
    return LINK_RE.search(text) is not None


def normalise_phrase(phrase: str) -> str:
    """Lower-case with single spaces: how watched words are stored and compared."""
    return " ".join(phrase.split()).lower()


def phrase_pattern(phrase: str) -> str:
    """A regex matching ``phrase`` as whole words, any run of whitespace between words."""
    words = [re.escape(w) for w in normalise_phrase(phrase).split(" ") if w]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def load_watched_words() -> list[WatchedWord]:
    """Every watched word, "block" before "review" (one query)."""
    return list(db.session.scalars(select(WatchedWord).order_by(WatchedWord.action, WatchedWord.phrase)))


@dataclass(frozen=True)
class Watched:
    """A watched word as the checks use it, kept by each process (`watched_words`)."""

    phrase: str
    action: str


def watched_words() -> tuple[Watched, ...]:
    """Every watched word, "block" before "review": loaded once per process and again after
    any change commits, on any host (``pagecache.tables.kept``: every post checks them)."""
    return kept("watched_words", lambda: tuple(Watched(w.phrase, w.action) for w in load_watched_words()))


@lru_cache(maxsize=1024)
def _phrase_regex(phrase: str) -> re.Pattern[str]:
    return re.compile(phrase_pattern(phrase), re.IGNORECASE)


def find_watched_word(text: str, words: Sequence[Watched] | None = None) -> Watched | None:
    """The first watched word in ``text``, "block" words before "review" words."""
    for word in watched_words() if words is None else words:
        if word.phrase and _phrase_regex(word.phrase).search(text):
            return word
    return None


def role_class(user: User) -> str:
    """"staff", "new_member" or "member": the row of the rate-limit table that applies."""
    if user.is_staff:
        return "staff"
    return "new_member" if is_new_member(user) else "member"


def rate_limit(user: User, kind: str) -> tuple[int, int, str] | None:
    """(posts, minutes, role class) allowed for ``user`` posting a ``kind``; None when unlimited."""
    cls = role_class(user)
    if cls == "staff":
        return None
    cfg = current_app.config
    limit = int(cfg.get(f"POST_RATE_{cls.upper()}_{kind.upper()}S", 0) or 0)
    if limit <= 0:
        return None
    return limit, int(cfg["POST_RATE_WINDOW_MINUTES"]), cls


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def lock_author(user_id: int) -> None:
    """Serialise the posting transactions of one author: returns once no other holds the lock,
    which is then held until this transaction ends (commit or rollback).

    PostgreSQL: a transaction-level advisory lock in a key space of its own (two int4 keys:
    hashtext('forum.post_rate') and the user id), which no row lock or reputation update waits
    on, so it adds no deadlock. SQLite: a write that changes nothing takes the database's write
    lock now rather than at the post's INSERT; the driver opens the transaction at that first
    write, so the count that follows reads what every earlier writer committed. It goes through
    the connection, not the ORM session, so the page cache's write hooks do not see it.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("forum.post_rate"), user_id)))
    else:
        db.session.connection().exec_driver_sql("UPDATE users SET id = id WHERE id = ?", (user_id,))


def check_rate(user: User, kind: str) -> None:
    """Raise RateLimited when ``user`` already wrote the allowed number of ``kind`` posts in the window.

    Takes the author's lock first (``lock_author``): a post that passes is counted by every
    post of the same author that checks after it, even one racing it on another host.
    """
    if not current_app.config["POST_RATE_LIMITS_ENABLED"]:
        return
    allowed = rate_limit(user, kind)
    if allowed is None:
        return
    limit, minutes, cls = allowed
    lock_author(user.id)
    model = KIND_MODELS[kind]
    now = utcnow()
    window = timedelta(minutes=minutes)
    held = (model.hidden_at.is_not(None)) & (model.hidden_reason == "review")
    recent = list(db.session.scalars(
        select(model.created_at).where(model.author_id == user.id, model.created_at > now - window, ~held)
        .order_by(model.created_at.desc()).limit(limit)
    ))
    if len(recent) < limit:
        return
    # The limit-th most recent post leaves the window first: then one more post fits.
    wait = recent[limit - 1] + window - now
    wait_minutes = max(1, math.ceil(wait.total_seconds() / 60))
    who = ROLE_CLASS_LABELS[cls]
    raise RateLimited(
        f"You're posting too fast: at most {_plural(limit, kind)} per {_plural(minutes, 'minute')} for {who}. "
        f"Try again in {_plural(wait_minutes, 'minute')}.",
        retry_after=max(1, math.ceil(wait.total_seconds())),
    )


def held_count(user: User) -> int:
    """How many of ``user``'s questions, answers and comments wait for a moderator."""
    total = 0
    for model in KIND_MODELS.values():
        total += db.session.scalar(
            select(func.count()).select_from(model)
            .where(model.author_id == user.id, model.hidden_at.is_not(None), model.hidden_reason == "review")) or 0
    return total


def check_review_cap(user: User) -> None:
    """Raise RateLimited when ``user`` already has REVIEW_MAX_PENDING_PER_MEMBER posts held for
    review (a post that would be held too can't be sent until a moderator gets to them).

    Takes the author's lock first (``lock_author``), so two held posts sent at once are counted
    one after the other.
    """
    cap = int(current_app.config.get("REVIEW_MAX_PENDING_PER_MEMBER", 0) or 0)
    if cap <= 0 or user.is_staff:
        return
    lock_author(user.id)
    waiting = held_count(user)
    if waiting < cap:
        return
    hours = int(current_app.config["REVIEW_USUAL_WAIT_HOURS"])
    raise RateLimited(
        f"You already have {_plural(waiting, 'post')} waiting for a moderator, the most a member can have. "
        f"This one would wait for review too, so it can't be sent until they're reviewed "
        f"(usually within {_plural(hours, 'hour')}). Your text is kept here; posts without links to other "
        f"sites are not held.",
        retry_after=hours * 3600,
    )


def check_new_post(author: User, text: str, *, kind: str) -> Verdict:
    """Decide what happens to a new post of ``kind`` ("question", "answer", "comment").

    Returns "publish", or "review" to hold it hidden in the review queue.
    Raises RateLimited (429) when the author posts faster than their role allows, or when the
    post would be held while the author already has REVIEW_MAX_PENDING_PER_MEMBER held posts;
    and FieldError("body") when a watched "block" word appears, so the text stays in the form.
    """
    if kind not in KIND_MODELS:
        raise ValueError(f"unknown post kind {kind!r}")
    check_rate(author, kind)
    verdict: Verdict = "publish"
    word = find_watched_word(text)
    if word is not None and word.action == "block":
        raise FieldError("body", f"Your post contains a blocked word: “{word.phrase}”. Please rephrase it.")
    if author.is_staff:
        return verdict
    if word is not None:
        verdict = "review"
    elif current_app.config["NEW_MEMBER_LINK_REVIEW"] and has_link(text) and is_new_member(author):
        verdict = "review"
    if verdict == "review":
        check_review_cap(author)
    return verdict


def check_edited_post(author: User, text: str) -> Verdict:
    """The same content rules for an edit, without the rate limit.

    An edit cannot sneak in what a new post could not: a "block" word raises FieldError("body");
    a "review" word, or a link from a new member, sends the edited post back to review.
    """
    word = find_watched_word(text)
    if word is not None and word.action == "block":
        raise FieldError("body", f"Your post contains a blocked word: “{word.phrase}”. Please rephrase it.")
    if author.is_staff:
        return "publish"
    if word is not None:
        return "review"
    if current_app.config["NEW_MEMBER_LINK_REVIEW"] and has_link(text) and is_new_member(author):
        return "review"
    return "publish"


# ---------------------------------------------------------------- managing the watched words


def list_watched_words(viewer: User) -> list[WatchedWord]:
    require(viewer, "manage_watched_words")
    return list(db.session.scalars(select(WatchedWord).order_by(WatchedWord.phrase)))


def add_watched_word(actor: User, phrase: str, action: str) -> WatchedWord:
    """Add a word or phrase, or change the action of one already listed.

    Raises PermissionDenied (moderators only), FieldError("phrase"/"action"), InvalidState
    when the phrase is already listed with that action.
    """
    require(actor, "manage_watched_words")
    phrase = normalise_phrase(phrase)
    if not phrase or not any(ch.isalnum() for ch in phrase):
        raise FieldError("phrase", "Enter a word or phrase (letters or digits).")
    if len(phrase) > 100:
        raise FieldError("phrase", "Keep it under 100 characters.")
    if action not in WATCH_ACTIONS:
        raise FieldError("action", "Choose block or review.")
    word = db.session.scalar(select(WatchedWord).where(WatchedWord.phrase == phrase))
    if word is not None:
        if word.action == action:
            raise InvalidState(f"“{phrase}” is already on the list ({action}).")
        before = {"phrase": word.phrase, "action": word.action}
        word.action = action
        db.session.flush()
        log_action(actor, "change_watched_word", "watched_word", word.id, before=before,
                   after={"phrase": word.phrase, "action": action})
        return word
    word = WatchedWord(phrase=phrase, action=action, created_by_id=actor.id)
    db.session.add(word)
    db.session.flush()
    log_action(actor, "add_watched_word", "watched_word", word.id, before={},
               after={"phrase": phrase, "action": action})
    db.session.flush()
    return word


def remove_watched_word(actor: User, word_id: int) -> None:
    """Raises PermissionDenied and NotFound."""
    require(actor, "manage_watched_words")
    word = db.session.get(WatchedWord, word_id)
    if word is None:
        raise NotFound("That word is not on the list.")
    log_action(actor, "remove_watched_word", "watched_word", word.id,
               before={"phrase": word.phrase, "action": word.action}, after={})
    db.session.delete(word)
    db.session.flush()
