"""Linked threads: what counts as a link at write time, the link table, backlinks, rerender."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select, update

from forum.extensions import db
from forum.models import PostLink, Question
from forum.services import answers, articles, comments, curation, questions
from forum.services.links import backlinks_to, render_body
from forum.services.visibility import hide_post, unhide_post


def linked(html: str) -> list[str]:
    return re.findall(r'data-link="([a-z]+:\d+)"', html)


def edges(kind: str, ident: int) -> list[tuple[str, int]]:
    rows = db.session.execute(select(PostLink.target_type, PostLink.target_id)
                              .where(PostLink.source_type == kind, PostLink.source_id == ident)
                              .order_by(PostLink.position))
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def article(make_user):
    staff = make_user(role="agent")
    a = articles.create_article(staff, articles.ArticleInput("Resetting the Lumen hub", "Hold the button " * 5, "setup"))
    articles.set_state(staff, a, "published")
    db.session.commit()
    return a


def test_every_link_form_to_this_site_becomes_a_linked_thread(app, make_question, make_answer, article) -> None:
    app.config["LINK_HOSTS"] = "community.example.com, forum.example.org:8443"
    t1, t2, t3, t4 = (make_question() for _ in range(4))
    body = (f"Relative [see this](/questions/{t1.id}/some-old-slug), full {app.config['SITE_URL']}/questions/{t2.id} "
            f"and https://forum.example.org:8443/questions/{t3.id}#answer-9, shorthand #{t4.id}, "
            f"the [article](http://community.example.com/articles/{article.id}/x).")
    source = make_question(body=body)
    html = source.body_html
    assert linked(html) == [f"question:{t1.id}", f"question:{t2.id}", f"question:{t3.id}", f"question:{t4.id}",
                            f"article:{article.id}"]
    # Full URLs on this site become site-relative links without rel=nofollow.
    assert f'href="/questions/{t2.id}"' in html and f'href="/questions/{t3.id}#answer-9"' in html
    assert f'href="/articles/{article.id}/x"' in html and "nofollow" not in html
    assert f">#{t4.id}</a>" in html  # the shorthand keeps its text, never the title
    assert edges("question", source.id) == [("question", t1.id), ("question", t2.id), ("question", t3.id),
                                            ("question", t4.id), ("article", article.id)]
    answer = make_answer(source, body=f"Also #{t1.id}, and this very thread #{source.id}.")
    assert edges("answer", answer.id) == [("question", t1.id)]  # a link inside its own thread is no linked thread


@pytest.mark.parametrize("template", [
    "`#{id}` in a code span",
    "```\n#{id} in a fenced block\n```",
    "    #{id} in an indented block",
    "issue#{id} mid-word",
    "\\#{id} escaped",
    "&#{id}; an entity",
    "[#{id}](https://other.example.com/questions/{id}) another site",
    "https://other.example.com/questions/{id} bare link to another site",
    "/questions/{id}/edit as plain text",
])
def test_hash_shorthand_and_urls_that_are_not_thread_links(app, make_question, template: str) -> None:
    target = make_question()
    rendered = render_body(template.format(id=target.id))
    assert rendered.links == () and "data-link" not in rendered.html


def test_a_heading_is_not_a_shorthand_and_unknown_numbers_stay_text(app, make_question) -> None:
    target = make_question()
    rendered = render_body(f"# {target.id} ways to fix it\n\nSee #99999999 and #{target.id}.")
    assert "<h3>" in rendered.html and rendered.links == (("question", target.id),)
    assert "#99999999" in rendered.html and 'href="/questions/99999999"' not in rendered.html


def test_comments_link_threads_too(app, make_question, make_user) -> None:
    target, thread = make_question(), make_question()
    c = comments.add_comment(make_user(), thread, f"Same as #{target.id}")
    db.session.commit()
    assert linked(c.body_html) == [f"question:{target.id}"] and edges("comment", c.id) == [("question", target.id)]
    assert [q.id for q in backlinks_to(target).threads] == [thread.id]


def test_editing_replaces_the_links_and_backlinks_follow(app, make_question) -> None:
    old, new = make_question(), make_question()
    source = make_question(body=f"This looks like #{old.id} to me, same symptoms.")
    assert [q.id for q in backlinks_to(old).threads] == [source.id]
    questions.edit_question(source.author, source, questions.QuestionInput(
        source.title, f"Actually it is #{new.id}, same symptoms.", "setup"))
    db.session.commit()
    assert edges("question", source.id) == [("question", new.id)]
    assert backlinks_to(old).threads == [] and [q.id for q in backlinks_to(new).threads] == [source.id]


def test_backlinks_hide_deleted_and_hidden_sources_and_return_on_restore(app, make_question, make_answer, make_user) -> None:
    target, thread = make_question(), make_question()
    answer = make_answer(thread, body=f"Fixed the same way as #{target.id}.")
    assert [q.id for q in backlinks_to(target).threads] == [thread.id]

    answers.delete_answer(answer.author, answer)
    db.session.commit()
    assert backlinks_to(target).threads == []
    answers.restore_answer(answer.author, answer)
    db.session.commit()
    assert [q.id for q in backlinks_to(target).threads] == [thread.id]

    hide_post(answer, "moderator")
    db.session.commit()
    assert backlinks_to(target).threads == []
    unhide_post(answer)
    db.session.commit()
    assert [q.id for q in backlinks_to(target).threads] == [thread.id]

    questions.delete_question(thread.author, thread)  # the whole source thread goes
    db.session.commit()
    assert backlinks_to(target).threads == []


def test_a_comment_on_a_deleted_answer_is_no_backlink(app, make_question, make_answer, make_user) -> None:
    target, thread = make_question(), make_question()
    answer = make_answer(thread)
    comments.add_comment(make_user(), answer, f"See #{target.id}")
    answers.delete_answer(answer.author, answer)
    db.session.commit()
    assert backlinks_to(target).threads == []


def test_duplicate_closure_lists_the_duplicate_on_the_original(app, make_question, make_user) -> None:
    original, dupe = make_question(), make_question()
    curation.close_question(make_user(role="agent"), dupe, "duplicate", duplicate_of=original)
    db.session.commit()
    back = backlinks_to(original)
    assert [q.id for q in back.duplicates] == [dupe.id] and back.threads == []


def test_articles_link_and_are_linked(app, make_question, make_user, article) -> None:
    thread = make_question(body=f"The official fix: /articles/{article.id} worked for me.")
    staff = make_user(role="agent")
    guide = articles.create_article(staff, articles.ArticleInput("Guide that cites a thread", f"As in #{thread.id}, "
                                                                 "do this and that.", "setup"))
    db.session.commit()
    assert [q.id for q in backlinks_to(article).threads] == [thread.id]
    assert backlinks_to(thread).articles == []  # a draft article is no backlink
    articles.set_state(staff, guide, "published")
    db.session.commit()
    assert [a.id for a in backlinks_to(thread).articles] == [guide.id]


def test_links_per_post_are_capped(app, make_question) -> None:
    app.config["LINKS_MAX"] = 3
    targets = [make_question() for _ in range(5)]
    source = make_question(body="Related: " + ", ".join(f"#{t.id}" for t in targets))
    assert [i for _, i in edges("question", source.id)] == [t.id for t in targets[:3]]


def test_rerender_rebuilds_the_link_table(app, make_question, runner) -> None:
    target = make_question()
    source = make_question(body=f"Looks like #{target.id} again, same orange light.")
    db.session.execute(delete(PostLink))
    db.session.execute(update(Question).where(Question.id == source.id)
                       .values(render_version=0, body_html="<p>stale</p>"))
    db.session.commit()
    assert backlinks_to(target).threads == []
    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert edges("question", source.id) == [("question", target.id)]
    assert linked(db.session.get(Question, source.id).body_html) == [f"question:{target.id}"]



def test_a_new_member_linking_a_thread_by_its_full_address_is_not_sent_to_review(app, make_user, make_question) -> None:
    app.config["NEW_MEMBER_LINK_REVIEW"] = True
    target = make_question()
    newbie = make_user()
    own = questions.ask_question(newbie, questions.QuestionInput(
        "Same blinking issue as the other thread", f"Exactly like {app.config['SITE_URL']}/questions/{target.id} here.",
        "setup"))
    outside = questions.ask_question(newbie, questions.QuestionInput(
        "Found a fix on another website", f"Try {app.config['SITE_URL']}.evil.example/questions/{target.id} now.",
        "setup"))
    db.session.commit()
    assert own.is_visible and edges("question", own.id) == [("question", target.id)]
    assert outside.is_hidden and outside.hidden_reason == "review"
