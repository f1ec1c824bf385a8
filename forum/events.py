"""Domain events: services say what happened; subscribers do what follows.

A service that writes announces the fact with ``publish(SomethingHappened(...))`` and does
nothing else about it. Subscribers, registered in one place (``forum/subscribers.py``),
react in one of two phases:

- ``IN_TRANSACTION``: called at once, inside the writer's transaction, before ``publish``
  returns. For work that must commit or roll back with the write (notifications, badges,
  link and mention bookkeeping, first-response tracking). An exception here propagates to
  the writer, so the whole request fails as one.
- ``AFTER_COMMIT``: called once the outermost transaction has really committed, never when
  it rolls back (``forum.database.after_real_commit``). For work outside the database
  (search index writes; mail and webhooks keep their own outbox hook, forum/jobs.py). The data is already
  committed then, so an exception is logged and does not reach the user; each such
  subscriber must leave something durable to retry from (``search_pending``, the outbox).

Why a small registry of our own and not blinker (which Flask ships): blinker calls a
signal's receivers in the order of a ``set`` of ids, so it cannot promise that link
bookkeeping runs before the mention notifications that read it; its receivers take
``(sender, **kwargs)``, which the type checker cannot tie to an event class; and it knows
nothing of transactions. Here a handler is typed by the event class it takes, runs in the
order written in ``forum/subscribers.py``, and is bound to a phase of the transaction.

Events published inside a SAVEPOINT that is later rolled back while the outer transaction
commits still reach after-commit subscribers; those only ever re-read the database (the
search index, the outbox), so they find nothing to do for rows that were never written.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from sqlalchemy.orm import Session

from .database import after_real_commit
from .extensions import db

if TYPE_CHECKING:
    from .markup import Rendered

log = logging.getLogger(__name__)

PENDING = "forum.events.after_commit"
PostType = Literal["question", "answer", "comment"]
SourceType = Literal["question", "answer", "comment", "article"]


class Phase(StrEnum):
    IN_TRANSACTION = "in_transaction"
    AFTER_COMMIT = "after_commit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every domain event: a small, immutable record of ids and facts, never ORM rows
    (after the commit a row may be expired or detached; ids can always be re-read)."""

    name: ClassVar[str] = "event"
    #: The question whose thread, counts or search document this event changes (None: none).
    question_id: int | None = None


# ---------------------------------------------------------------- the catalogue
# One class per fact. Keep them flat: ids and small values that subscribers need.


@dataclass(frozen=True, slots=True)
class Body:
    """What a body just stored points at, as rendered (forum.markup.Rendered): the input of
    link and mention bookkeeping, so no subscriber renders the text a second time."""

    source_type: SourceType
    source_id: int
    #: Who wrote the words (mentions come from them; None: nobody, e.g. a re-render).
    writer_id: int | None
    links: tuple[tuple[str, int], ...] = ()  # ("question" | "article", id), in order of appearance
    mentions: tuple[int, ...] = ()  # user ids, in order of appearance

    @classmethod
    def of(cls, source_type: SourceType, source_id: int, writer_id: int | None, rendered: Rendered) -> Body:
        return cls(source_type, source_id, writer_id, rendered.links, rendered.mentions)


class BodyEvent(Protocol):
    """Any event that stored a rendered body (it carries ``body``): what link and mention
    bookkeeping subscribe with, whatever the event."""

    @property
    def question_id(self) -> int | None: ...

    @property
    def body(self) -> Body: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionAsked(Event):
    name: ClassVar[str] = "question_asked"
    author_id: int
    published: bool  # False: held for review
    body: Body


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerPosted(Event):
    name: ClassVar[str] = "answer_posted"
    answer_id: int
    author_id: int
    published: bool  # False: held for review
    body: Body
    case_resolution: bool = False  # the public summary of a private case (cases.resolve_case)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentAdded(Event):
    name: ClassVar[str] = "comment_added"
    comment_id: int
    post_type: Literal["question", "answer"]
    post_id: int
    author_id: int
    published: bool  # False: held for review
    body: Body


@dataclass(frozen=True, slots=True, kw_only=True)
class PostEdited(Event):
    """A question, answer or comment got a new text (an edit, or an approved suggested edit)."""

    name: ClassVar[str] = "post_edited"
    post_type: PostType
    post_id: int
    editor_id: int  # whom the revision is credited to
    body: Body


@dataclass(frozen=True, slots=True, kw_only=True)
class PostHidden(Event):
    """A post stopped counting: hidden (``reason`` "review", "flags", "moderator", "spam") or
    soft-deleted (``reason`` "deleted")."""

    name: ClassVar[str] = "post_hidden"
    post_type: PostType
    post_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRestored(Event):
    """A hidden or deleted post counts again (approved, un-hidden, undeleted)."""

    name: ClassVar[str] = "post_restored"
    post_type: PostType
    post_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VoteCast(Event):
    """A member's vote on a post moved from ``previous`` to ``value`` (0: none)."""

    name: ClassVar[str] = "vote_cast"
    voter_id: int
    post_type: Literal["question", "answer"]
    post_id: int
    value: int
    previous: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerAccepted(Event):
    name: ClassVar[str] = "answer_accepted"
    answer_id: int
    actor_id: int
    previous_answer_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerUnaccepted(Event):
    name: ClassVar[str] = "answer_unaccepted"
    answer_id: int
    actor_id: int | None  # None: released because the answer was hidden or deleted


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionClosed(Event):
    name: ClassVar[str] = "question_closed"
    actor_id: int
    reason: str
    duplicate_of_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionReopened(Event):
    name: ClassVar[str] = "question_reopened"
    actor_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseOpened(Event):
    name: ClassVar[str] = "case_opened"
    case_id: int
    actor_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResolved(Event):
    name: ClassVar[str] = "case_resolved"
    case_id: int
    actor_id: int
    answer_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagRaised(Event):
    name: ClassVar[str] = "flag_raised"
    flag_id: int
    post_type: PostType
    post_id: int
    flagger_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSuspended(Event):
    name: ClassVar[str] = "user_suspended"
    user_id: int
    actor_id: int
    until: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailVerificationRequested(Event):
    """A confirmation link is due at ``address``: a sign-up, "send again", or (the subclass) a
    change of address."""

    name: ClassVar[str] = "email_verification_requested"
    user_id: int
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailChangeRequested(EmailVerificationRequested):
    """The member asked to move from ``old_address`` to ``address`` (pending until confirmed).
    ``address_taken``: another account has ``address``, so its owner gets a note, not a link."""

    name: ClassVar[str] = "email_change_requested"
    old_address: str
    address_taken: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SignUpWithTakenEmail(Event):
    """Someone registered with the address of account ``user_id``; no account was created."""

    name: ClassVar[str] = "sign_up_with_taken_email"
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordResetRequested(Event):
    """A reset was asked for ``address``; ``user_id`` None when no account has it."""

    name: ClassVar[str] = "password_reset_requested"
    user_id: int | None
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordResetDone(Event):
    """A reset link set a new password for ``user_id`` (every session ended)."""

    name: ClassVar[str] = "password_reset_done"
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordChanged(Event):
    """``user_id`` has a new password (changed in settings, or set by a reset link, which also
    announces PasswordResetDone); every session has ended."""

    name: ClassVar[str] = "password_changed"
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDeleted(Event):
    """A member deleted their account: personal data removed, posts kept under "Deleted member"."""

    name: ClassVar[str] = "account_deleted"
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleChanged(Event):
    """An article was created, edited, published, archived or rated (the subclasses below
    say which, for the subscribers that care; a subscriber of this class hears them all)."""

    name: ClassVar[str] = "article_changed"
    article_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleWritten(ArticleChanged):
    """An article was created (drafted, or promoted from a question) or its text edited."""

    name: ClassVar[str] = "article_written"
    actor_id: int
    created: bool
    body: Body


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticlePublished(ArticleChanged):
    """An article was published (``articles.set_state``; a re-publication too)."""

    name: ClassVar[str] = "article_published"
    actor_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleRated(ArticleChanged):
    """A member's "Was this helpful?" answer was stored or changed to ``helpful``."""

    name: ClassVar[str] = "article_rated"
    user_id: int
    helpful: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRejected(Event):
    """A moderator declined a post held in the review queue: it stays hidden (reason "moderator")."""

    name: ClassVar[str] = "post_rejected"
    post_type: PostType
    post_id: int
    actor_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PostApproved(Event):
    """A moderator published a post held in the review queue (a PostRestored comes first).

    ``first_publication``: it was held when written, so nobody has heard of it yet; False
    when an edit had sent it back to review.
    """

    name: ClassVar[str] = "post_approved"
    post_type: PostType
    post_id: int
    actor_id: int
    first_publication: bool
    body: Body


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagsResolved(Event):
    """A moderator resolved the pending flags on a post with ``action`` (moderation.FLAG_ACTIONS):
    ``status`` "dismissed" or "actioned"; ``flagger_ids`` are those whose flags were pending."""

    name: ClassVar[str] = "flags_resolved"
    post_type: PostType
    post_id: int
    actor_id: int
    action: str
    status: Literal["dismissed", "actioned"]
    flagger_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseMessageAdded(Event):
    name: ClassVar[str] = "case_message_added"
    case_id: int
    case_event_id: int
    actor_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseStatusChanged(Event):
    """Staff moved a case between "open" and "waiting" (resolving is CaseResolved)."""

    name: ClassVar[str] = "case_status_changed"
    case_id: int
    actor_id: int
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseReopened(Event):
    """The customer replied to a resolved case within ``CASE_REOPEN_DAYS``: it is open again
    (published after the CaseMessageAdded of that reply, ``case_event_id``)."""

    name: ClassVar[str] = "case_reopened"
    case_id: int
    case_event_id: int
    actor_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaBreached(Event):
    """The SLA sweep found a question past its first-response target (once per question).

    ``question_id`` stays None on purpose: a breach changes no page or search document, so the
    search and page-cache subscribers (which hear every event) have nothing to do for it.
    """

    name: ClassVar[str] = "sla_breached"
    breached_question_id: int
    target_hours: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestionApproved(Event):
    """A reviewer approved a suggested edit; the edit itself is announced as PostEdited."""

    name: ClassVar[str] = "suggestion_approved"
    suggestion_id: int
    reviewer_id: int
    proposer_id: int
    post_type: Literal["question", "answer"]
    post_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BadgeAwarded(Event):
    """A member earned a badge (``tag``: the tag of a tag badge, else ""). ``announce`` is False
    for the silent backfill (``flask badges award``), which must not message thousands at once."""

    name: ClassVar[str] = "badge_awarded"
    user_id: int
    badge: str
    tag: str
    announce: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SolvedTooChanged(Event):
    """A member marked (``marked``) or took back "This solved my problem too" on a question;
    ``count`` is the question's count after it, ``credited_id`` whose "helped" count moved
    (the accepted answer's author; None: no accepted answer, or the member is that author)."""

    name: ClassVar[str] = "solved_too_changed"
    user_id: int
    marked: bool
    count: int
    credited_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TagEdited(Event):
    """Staff changed a tag's description (its wiki): the tag page, the tags index and every
    list that shows the excerpt are stale."""

    name: ClassVar[str] = "tag_edited"
    tag_id: int
    actor_id: int


# --- admin ---
@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettingChanged(Event):
    """An admin changed a run-time site setting (services/site_settings.py); ``on_pages``: the
    setting shows on pages, so cached anonymous pages holding the old value must go."""

    name: ClassVar[str] = "site_setting_changed"
    key: str
    actor_id: int
    on_pages: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleChanged(Event):
    """An admin (``actor_id`` None: the command line) changed a member's role."""

    name: ClassVar[str] = "role_changed"
    user_id: int
    actor_id: int | None
    old: str
    new: str


# ---------------------------------------------------------------- the dispatcher

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


@dataclass
class Registry:
    """Handlers per event class and phase, called in the order they were subscribed."""

    handlers: dict[tuple[type[Event], Phase], list[Handler]] = field(default_factory=dict)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None],
                  phase: Phase = Phase.IN_TRANSACTION) -> None:
        """Call ``handler(event)`` for every published ``event_type`` (subclasses included)
        in ``phase``. Subscribing the same handler twice is a no-op."""
        handlers = self.handlers.setdefault((event_type, phase), [])
        if handler not in handlers:
            handlers.append(handler)

    def for_event(self, event: Event, phase: Phase) -> list[Handler]:
        found: list[Handler] = []
        for klass in type(event).__mro__:
            found.extend(self.handlers.get((klass, phase), ()))
        return found


registry = Registry()


def subscribe(event_type: type[E], handler: Callable[[E], None], phase: Phase = Phase.IN_TRANSACTION) -> None:
    """Register ``handler`` on the process-wide registry (see Registry.subscribe)."""
    registry.subscribe(event_type, handler, phase)


def publish(event: Event, session: Session | None = None) -> None:
    """Announce ``event``: run the in-transaction subscribers now, queue the after-commit ones.

    Raises whatever an in-transaction subscriber raises (a ServiceError, a database error):
    the writer's transaction then fails as a whole.
    """
    for handler in registry.for_event(event, Phase.IN_TRANSACTION):
        handler(event)
    if registry.for_event(event, Phase.AFTER_COMMIT):
        session = session if session is not None else db.session()
        session.info.setdefault(PENDING, []).append(event)


def _after_commit(session: Session) -> None:
    events: list[Event] = session.info.pop(PENDING, None) or []
    for event in events:
        for handler in registry.for_event(event, Phase.AFTER_COMMIT):
            try:
                handler(event)
            except Exception:
                log.exception("after-commit subscriber %s failed for %s", getattr(handler, "__qualname__", handler), event)


def init_app() -> None:
    """Bind the after-commit phase to the session (once per process)."""
    after_real_commit("events", None, _after_commit, (PENDING,))
