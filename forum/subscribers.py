"""Who reacts to which domain event: the one table of what happens after a write.

``docs/architecture.md`` ("What happens after a write") shows the same table. A new feature
that reacts to writes adds a line here (and a handler in its own module), not a call inside
the services that write. The order of lines for one event is the order the handlers run in.

Every handler below runs IN_TRANSACTION (the default): inside the writer's transaction, so
its rows commit or roll back with the write. Mentions come before the "answer"/"comment"
notifications on purpose: a member told of one URL is told once per transaction, under the
first (most specific) event (services/notifications.py).
"""
from __future__ import annotations

from flask import Flask

from . import pagecache, search_sync, viewcounts
from .events import (
    AccountDeleted,
    AnswerAccepted,
    AnswerPosted,
    AnswerUnaccepted,
    ArticlePublished,
    ArticleRated,
    ArticleWritten,
    BadgeAwarded,
    CaseMessageAdded,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseStatusChanged,
    CommentAdded,
    EmailChangeRequested,
    EmailVerificationRequested,
    Event,
    FlagRaised,
    FlagsResolved,
    PasswordChanged,
    PasswordResetDone,
    PasswordResetRequested,
    Phase,
    PostApproved,
    PostEdited,
    PostHidden,
    PostRejected,
    PostRestored,
    QuestionAsked,
    SignUpWithTakenEmail,
    SlaBreached,
    SolvedTooChanged,
    UserSuspended,
    VoteCast,
    subscribe,
)
from .services import (
    account_mail,
    activity,
    api_tokens,
    cases,
    deflection,
    drafts,
    flags,
    following,
    links,
    mentions,
    notifications,
    reach,
    related,
    support,
    uploads,
    webhooks,
)
from .services import solved_too as thanks
from .services.badges import awards as badges

_wired = False


def init_app(app: Flask) -> None:
    """Subscribe every handler (once per process; the registry is process-wide), and have
    ``app``'s view-count flushes write the search counts too (per app: ``viewcounts.also_flush``)."""
    # Not an event: searches are counted off the request and written with the view counts.
    viewcounts.also_flush(app, deflection.flush_searches)
    global _wired
    if _wired:
        return
    _wired = True
    notifications.init_app()
    badges.init_app()

    subscribe(QuestionAsked, links.record_body_links)
    subscribe(QuestionAsked, mentions.record_body_mentions)
    subscribe(QuestionAsked, following.asker_follows)
    subscribe(QuestionAsked, related.question_written)

    subscribe(AnswerPosted, links.record_body_links)
    subscribe(AnswerPosted, mentions.record_body_mentions)
    subscribe(AnswerPosted, support.answer_responds)
    subscribe(AnswerPosted, following.answerer_follows)
    subscribe(AnswerPosted, activity.answer_posted)
    subscribe(AnswerPosted, badges.answer_posted)

    subscribe(CommentAdded, links.record_body_links)
    subscribe(CommentAdded, mentions.record_body_mentions)
    subscribe(CommentAdded, support.comment_responds)
    subscribe(CommentAdded, activity.comment_added)

    subscribe(PostEdited, links.record_body_links)
    subscribe(PostEdited, mentions.record_body_mentions)
    subscribe(PostEdited, related.question_written)

    subscribe(PostHidden, support.response_shown_or_hidden)
    subscribe(PostRestored, support.response_shown_or_hidden)

    subscribe(PostApproved, activity.post_approved)
    subscribe(PostApproved, links.record_body_links)
    subscribe(PostApproved, mentions.record_body_mentions)
    subscribe(PostApproved, badges.answer_approved)
    subscribe(PostRejected, activity.post_rejected)

    subscribe(VoteCast, badges.vote_cast)

    subscribe(AnswerAccepted, activity.answer_accepted)
    subscribe(AnswerAccepted, badges.answer_accepted)

    subscribe(FlagRaised, flags.auto_hide)
    subscribe(FlagsResolved, activity.flags_resolved)
    subscribe(FlagsResolved, badges.flags_actioned)

    subscribe(CaseOpened, support.case_responds)
    subscribe(CaseOpened, cases.case_opened)
    subscribe(CaseMessageAdded, cases.message_added)
    subscribe(CaseStatusChanged, cases.status_changed)
    subscribe(CaseResolved, cases.case_resolved)
    subscribe(CaseReopened, cases.case_reopened)

    subscribe(ArticleWritten, links.record_body_links)
    subscribe(ArticleWritten, mentions.record_body_mentions)
    subscribe(ArticleRated, badges.article_rated)

    subscribe(BadgeAwarded, badges.announce_award)

    # ---- drafts: the composer's draft is discarded with the post it became (services/drafts.py).
    subscribe(QuestionAsked, drafts.post_written)
    subscribe(AnswerPosted, drafts.post_written)
    subscribe(CommentAdded, drafts.post_written)
    subscribe(CaseMessageAdded, drafts.post_written)
    subscribe(CaseResolved, drafts.post_written)

    # ---- account mail: links and security notices, sent whether or not the address is confirmed.
    subscribe(EmailVerificationRequested, account_mail.send_verification_link)  # and EmailChangeRequested
    subscribe(EmailChangeRequested, account_mail.tell_old_address)
    subscribe(SignUpWithTakenEmail, account_mail.tell_owner_of_sign_up)
    subscribe(PasswordResetRequested, account_mail.send_reset_link)
    subscribe(PasswordResetDone, account_mail.tell_password_reset)

    # ---- API tokens: a new password (settings or a reset link), a deleted account or a suspension
    # revokes every token of the member, as it ends their sessions (services/api_tokens.py).
    subscribe(PasswordChanged, api_tokens.credentials_changed)
    subscribe(AccountDeleted, api_tokens.credentials_changed)
    subscribe(UserSuspended, api_tokens.credentials_changed)

    # ---- thanks: "This solved my problem too" credits follow the accepted answer (services/solved_too.py).
    # SolvedTooChanged itself needs no line: the page cache and search hear every event (below).
    subscribe(AnswerAccepted, thanks.answer_accepted)
    subscribe(AnswerUnaccepted, thanks.answer_unaccepted)

    # ---- insights: asking cancels the asker's pending deflections; "solved too" marks and
    # helpful articles count at once (services/deflection.py, docs/insights.md).
    subscribe(QuestionAsked, deflection.question_asked)
    subscribe(SolvedTooChanged, deflection.solved_too_changed)
    subscribe(ArticleRated, deflection.article_rated)

    # ---- people reached: views since the acceptance count for the accepted answer's author (services/reach.py).
    subscribe(AnswerAccepted, reach.answer_accepted)
    subscribe(AnswerUnaccepted, reach.answer_unaccepted)
    # ---- top helpers: a tag's stored ranking follows the acceptances in it (services/reach.py).
    subscribe(AnswerAccepted, reach.acceptance_changed)
    subscribe(AnswerUnaccepted, reach.acceptance_changed)
    subscribe(PostHidden, reach.visibility_changed)
    subscribe(PostRestored, reach.visibility_changed)
    subscribe(PostEdited, reach.visibility_changed)

    # ---- uploads: which posts reference which images (orphans are deleted by `flask uploads cleanup`).
    subscribe(QuestionAsked, uploads.record_body_refs)
    subscribe(AnswerPosted, uploads.record_body_refs)
    subscribe(CommentAdded, uploads.record_body_refs)
    subscribe(PostEdited, uploads.record_body_refs)
    subscribe(ArticleWritten, uploads.record_body_refs)
    subscribe(CaseMessageAdded, uploads.record_case_message_refs)

    # ---- webhooks: one outbox row per subscribed active endpoint, in the transaction; forum/jobs.py
    # hands the new rows to the job queue after the commit (services/webhooks.py, docs/webhooks.md).
    subscribe(QuestionAsked, webhooks.question_created)
    subscribe(AnswerPosted, webhooks.answer_created)
    subscribe(PostApproved, webhooks.post_approved)
    subscribe(AnswerAccepted, webhooks.answer_accepted)
    subscribe(CaseOpened, webhooks.case_opened)
    subscribe(CaseMessageAdded, webhooks.case_message)
    subscribe(CaseResolved, webhooks.case_resolved)
    subscribe(FlagRaised, webhooks.flag_created)
    subscribe(SlaBreached, webhooks.sla_breached)
    subscribe(ArticlePublished, webhooks.article_published)

    # ---- search: every event's question (or article) is re-indexed after the commit. The
    # keys are noted (and queued in search_pending) inside the transaction; the index write
    # itself runs once per commit, after it (search_sync's session hook), however many events.
    subscribe(Event, search_sync.note, Phase.IN_TRANSACTION)

    # ---- page cache: every event's question page and the lists (or its article) are bumped
    # with the write; rows flushed and atomic UPDATEs are mapped too (forum/pagecache/).
    subscribe(Event, pagecache.on_event, Phase.IN_TRANSACTION)
