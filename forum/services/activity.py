"""Who hears about what happens in a thread: the notifications the core services send.

Called by answers, comments, curation and moderation inside their transaction. A post held
for review tells nobody until a moderator approves it (``post_published``).
"""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..mail import site_path
from ..markup import to_plain_text
from ..models import Answer, Comment, Flag, Question, User
from .following import auto_follow
from .notifications import notify, notify_followers
from .questions import slugify

EXCERPT = 200
FLAG_OUTCOMES = {
    "dismiss": "was reviewed; no action was needed",
    "hide": "was upheld: the post is hidden",
    "delete": "was upheld: the post is deleted",
    "warn": "was upheld: the author was warned",
    "suspend": "was upheld: the author was suspended",
}


def question_path(question: Question, anchor: str = "") -> str:
    path = site_path("questions.show", question_id=question.id, slug=slugify(question.title))
    return f"{path}#{anchor}" if anchor else path


def _excerpt(html: str) -> str:
    # From the rendered HTML, so the bell and e-mails show words, not Markdown syntax.
    text = " ".join(to_plain_text(html).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"


def answer_posted(answer: Answer) -> None:
    """The answerer follows the question; the asker hears "answer", other followers "follow"."""
    question = answer.question or db.session.get(Question, answer.question_id)
    assert question is not None
    auto_follow(answer.author, question)
    if not answer.is_visible:
        return
    url = question_path(question, f"answer-{answer.id}")
    who = answer.author.name
    notify([question.author_id], "answer", actor=answer.author, subject=f"{who} answered your question “{question.title}”",
           url=url, text=_excerpt(answer.body_html))
    notify_followers(question, "follow", actor=answer.author, subject=f"{who} answered “{question.title}”",
                     url=url, text=_excerpt(answer.body_html))


def comment_posted(comment: Comment) -> None:
    """The author of the commented post hears "comment"; the question's followers hear "follow"."""
    if not comment.is_visible:
        return
    question = db.session.get(Question, comment.question_id)
    assert question is not None
    target: Question | Answer = question
    if comment.answer_id is not None:
        target = db.session.get(Answer, comment.answer_id) or question
    url = question_path(question, f"comment-{comment.id}")
    who = comment.author.name
    kind = "answer" if isinstance(target, Answer) else "question"
    notify([target.author_id], "comment", actor=comment.author,
           subject=f"{who} commented on your {kind} on “{question.title}”", url=url, text=_excerpt(comment.body_html))
    notify_followers(question, "follow", actor=comment.author, subject=f"{who} commented on “{question.title}”",
                     url=url, text=_excerpt(comment.body_html))


def answer_accepted(actor: User, answer: Answer) -> None:
    """The answer's author hears "accepted" (not when they accept on their own question)."""
    question = answer.question
    notify([answer.author_id], "accepted", actor=actor,
           subject=f"Your answer on “{question.title}” was accepted",
           url=question_path(question, f"answer-{answer.id}"), text=_excerpt(answer.body_html))


def post_published(post: Question | Answer | Comment) -> None:
    """A post approved from the review queue notifies as if it had just been posted."""
    if isinstance(post, Answer):
        answer_posted(post)
    elif isinstance(post, Comment):
        comment_posted(post)


def flags_resolved(actor: User, post_type: str, post_id: int, action: str) -> None:
    """Everyone whose flag on the post was pending hears the outcome ("flag").

    Call before the flags are marked resolved: it reads the pending ones.
    """
    flaggers = list(db.session.scalars(select(Flag.flagger_id).where(
        Flag.post_type == post_type, Flag.post_id == post_id, Flag.status == "pending")))
    if not flaggers:
        return
    outcome = FLAG_OUTCOMES.get(action, "was reviewed")
    url = site_path("moderation.my_flags")
    notify(flaggers, "flag", actor=actor, subject=f"Your flag on a {post_type} {outcome}", url=url)
