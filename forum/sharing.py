"""What a shared link shows: Open Graph and Twitter tags, and schema.org QAPage JSON-LD.

Built from rows the page already loaded (the question page's ``ThreadPage``, the article), so
nothing is queried and the anonymous page cache sees the same dependencies. Only what every
visitor may read goes in: a question that is hidden or deleted (shown to its author and staff
with a notice) gets no tags at all, an answer only when it is visible, an article only when
published. Rendered by templates/_partials/share_meta.html; see docs/theming.md ("Sharing").

The JSON-LD is embedded in ``<script type="application/ld+json">``: :func:`json_for_script`
escapes ``<``, ``>`` and ``&`` (and U+2028/U+2029) as ``\\uXXXX``, so no title or body can
close the script element or open a comment, whatever it contains.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from .markup import excerpt
from .models import Answer, Article, Question, User
from .services.articles import article_slug
from .services.questions import slugify
from .services.threads import ThreadPage

DESCRIPTION_CHARS = 200
QUESTION_TEXT_CHARS = 5_000
ANSWER_TEXT_CHARS = 2_000
MAX_SUGGESTED_ANSWERS = 10

_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
# One pass in C (str.translate) rather than a Python loop over every character of the JSON.
_SCRIPT_TABLE = str.maketrans(_SCRIPT_ESCAPES)


@dataclass(frozen=True)
class ShareMeta:
    """The tags of one page; ``json_ld`` is ready to put inside a script element (or None)."""

    title: str
    description: str
    url: str
    type: str  # og:type
    site_name: str
    json_ld: Markup | None = None


def json_for_script(data: Any) -> Markup:
    """``data`` as JSON that is safe inside ``<script>``: no ``</script>``, ``<!--`` or ``]]>``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_TABLE))  # every "<" escaped above


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def _person(user: User) -> dict[str, str]:
    return {"@type": "Person", "name": user.name,
            "url": url_for("users.profile", user_id=user.id, _external=True)}


def _question_url(question: Question) -> str:
    return url_for("questions.show", question_id=question.id, slug=slugify(question.title), _external=True)


def _answer(answer: Answer, question_url: str) -> dict[str, Any]:
    return {
        "@type": "Answer",
        "text": excerpt(answer.body_html, ANSWER_TEXT_CHARS),
        "upvoteCount": answer.score,
        "url": f"{question_url}#answer-{answer.id}",
        "dateCreated": _iso(answer.created_at),
        "author": _person(answer.author),
    }


def question_share(thread: ThreadPage) -> ShareMeta | None:
    """Tags for a question page, or None when the question is not public (hidden or deleted)."""
    question = thread.question
    if not question.is_visible:
        return None
    url = _question_url(question)
    visible = [a for a in thread.answers if a.is_visible]
    accepted = next((a for a in visible if a.id == question.accepted_answer_id), None)
    suggested = [a for a in visible if a is not accepted][:MAX_SUGGESTED_ANSWERS]
    main: dict[str, Any] = {
        "@type": "Question",
        "name": question.title,
        "text": excerpt(question.body_html, QUESTION_TEXT_CHARS) or question.title,
        "answerCount": question.answer_count,
        "upvoteCount": question.score,
        "dateCreated": _iso(question.created_at),
        "author": _person(question.author),
        "url": url,
    }
    if accepted is not None:
        main["acceptedAnswer"] = _answer(accepted, url)
    if suggested:
        main["suggestedAnswer"] = [_answer(a, url) for a in suggested]
    return ShareMeta(
        title=question.title,
        description=excerpt(question.body_html, DESCRIPTION_CHARS) or question.title,
        url=url,
        type="article",
        site_name=current_app.config["SITE_NAME"],
        json_ld=json_for_script({"@context": "https://schema.org", "@type": "QAPage", "mainEntity": main}),
    )


def article_share(article: Article) -> ShareMeta | None:
    """Tags for an article page, or None unless it is published."""
    if not article.is_published:
        return None
    return ShareMeta(
        title=article.title,
        description=excerpt(article.body_html, DESCRIPTION_CHARS) or article.title,
        url=url_for("articles.show", article_id=article.id, slug=article_slug(article.title), _external=True),
        type="article",
        site_name=current_app.config["SITE_NAME"],
    )
