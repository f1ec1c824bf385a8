"""Who hears about what happens in a thread: the notifications that follow answers, comments,
acceptances, approvals and resolved flags.

Each function here is a subscriber (forum/subscribers.py), run inside the writer's transaction
with the event; it re-reads the rows it needs (identity-map hits in that transaction). A post
held for review tells nobody until a moderator approves it (``post_approved``).
"""
from __future__ import annotations

from ..events import AnswerAccepted, AnswerPosted, CommentAdded, FlagsResolved, PostApproved, PostRejected, PostType
from ..extensions import db
from ..mail import site_path
from ..markup import to_plain_text
from ..models import Answer, Comment, Question, User
from .notifications import notify, notify_author_and_followers
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


def _excerpt(html: str, plain: str | None = None) -> str:
    # From the rendered HTML, so the bell and e-mails show words, not Markdown syntax; ``plain``
    # is that text when already extracted (answers store it at flush: answers.body_text).
    text = " ".join((to_plain_text(html) if plain is None else plain).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"


def _tell_answer(answer: Answer) -> None:
    """The asker hears "answer", other followers "follow" (nobody while the answer is hidden)."""
    if not answer.is_visible:
        return
    question = answer.question or db.session.get(Question, answer.question_id)
    assert question is not None
    url = question_path(question, f"answer-{answer.id}")
    who, excerpt = answer.author.name, _excerpt(answer.body_html, answer.body_text)  # once for both
    notify_author_and_followers(question, question.author_id, "answer", actor=answer.author,
                                subject=f"{who} answered your question “{question.title}”",
                                follow_subject=f"{who} answered “{question.title}”", url=url, text=excerpt)


def _tell_comment(comment: Comment) -> None:
    """The author of the commented post hears "comment"; the question's followers hear "follow"."""
    if not comment.is_visible:
        return
    question = db.session.get(Question, comment.question_id)
    assert question is not None
    target: Question | Answer = question
    if comment.answer_id is not None:
        target = db.session.get(Answer, comment.answer_id) or question
    url = question_path(question, f"comment-{comment.id}")
    who, excerpt = comment.author.name, _excerpt(comment.body_html)
    kind = "answer" if isinstance(target, Answer) else "question"
    notify_author_and_followers(question, target.author_id, "comment", actor=comment.author,
                                subject=f"{who} commented on your {kind} on “{question.title}”",
                                follow_subject=f"{who} commented on “{question.title}”", url=url, text=excerpt)


def answer_posted(event: AnswerPosted) -> None:
    answer = db.session.get(Answer, event.answer_id)
    if answer is not None:
        _tell_answer(answer)


def comment_added(event: CommentAdded) -> None:
    comment = db.session.get(Comment, event.comment_id)
    if comment is not None:
        _tell_comment(comment)


def answer_accepted(event: AnswerAccepted) -> None:
    """The answer's author hears "accepted" (not when they accept on their own question)."""
    answer = db.session.get(Answer, event.answer_id)
    assert answer is not None
    question = answer.question
    notify([answer.author_id], "accepted", actor=db.session.get(User, event.actor_id),
           subject=f"Your answer on “{question.title}” was accepted",
           url=question_path(question, f"answer-{answer.id}"), text=_excerpt(answer.body_html, answer.body_text))


def _review_outcome(post_type: PostType, post_id: int, actor_id: int, subject: str) -> None:
    """Tell a post's author what the review decided ("review"), with a link to the post."""
    post: Question | Answer | Comment | None
    if post_type == "question":
        post = db.session.get(Question, post_id)
    elif post_type == "answer":
        post = db.session.get(Answer, post_id)
    else:
        post = db.session.get(Comment, post_id)
    if post is None:
        return
    question = post if isinstance(post, Question) else db.session.get(Question, post.question_id)
    assert question is not None
    anchor = "" if isinstance(post, Question) else f"{post_type}-{post.id}"
    notify([post.author_id], "review", actor=db.session.get(User, actor_id),
           subject=subject.format(kind=post_type, title=question.title), url=question_path(question, anchor))


def post_rejected(event: PostRejected) -> None:
    """The author of a post declined in review hears it, with the moderator's reason."""
    why = f" Reason: {event.reason}" if event.reason else ""
    _review_outcome(event.post_type, event.post_id, event.actor_id,
                    "A moderator declined your {kind} on “{title}”; only you and staff can see it." + why)


def post_approved(event: PostApproved) -> None:
    """The author hears that their post is public now; on its first publication the post then
    notifies as if it had just been posted (after an edit sent it back to review, everyone
    heard of it already)."""
    _review_outcome(event.post_type, event.post_id, event.actor_id,
                    "A moderator approved your {kind} on “{title}”: everyone can see it now.")
    if not event.first_publication:
        return
    if event.post_type == "answer":
        answer = db.session.get(Answer, event.post_id)
        if answer is not None:
            _tell_answer(answer)
    elif event.post_type == "comment":
        comment = db.session.get(Comment, event.post_id)
        if comment is not None:
            _tell_comment(comment)


def flags_resolved(event: FlagsResolved) -> None:
    """Everyone whose flag on the post was pending hears the outcome ("flag")."""
    if not event.flagger_ids:
        return
    outcome = FLAG_OUTCOMES.get(event.action, "was reviewed")
    url = site_path("moderation.my_flags")
    notify(list(event.flagger_ids), "flag", actor=db.session.get(User, event.actor_id),
           subject=f"Your flag on a {event.post_type} {outcome}", url=url)
