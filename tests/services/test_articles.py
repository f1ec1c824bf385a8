"""Articles: writing and revisions, states, "Was this helpful?", promotion, search documents."""
from __future__ import annotations

import json
import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, ArticleFeedback, ModerationLog, Question, Tag, User
from forum.search_sync import check, count_documents, get_index, rebuild
from forum.services import articles
from forum.services.errors import FieldError, InvalidState, NotFound, PermissionDenied

BODY = "Hold the reset button on the back of the hub for ten seconds until the ring turns white."


def _input(title: str = "Reset the hub to factory settings", body: str = BODY, tags: str = "setup reset") -> articles.ArticleInput:
    return articles.ArticleInput(title, body, tags)


@pytest.fixture
def agent(make_user):
    return make_user(role="agent")


@pytest.fixture
def write(agent):
    """write(state="published", **input) -> a committed article by the agent."""
    def make(state: str = "draft", **fields: str) -> Article:
        article = articles.create_article(agent, _input(**fields))
        if state != "draft":
            articles.set_state(agent, article, state)
        db.session.commit()
        return article

    return make


def _log(action: str) -> list[ModerationLog]:
    return list(db.session.scalars(select(ModerationLog).where(ModerationLog.action == action)))


def keys(query: str) -> list[str]:
    return [h.key for h in get_index().search(query).hits]


# ---------------------------------------------------------------- writing and revisions


def test_staff_create_a_draft_with_rendered_body_first_revision_and_log_entry(agent) -> None:
    article = articles.create_article(agent, _input(body=BODY + "\n\n**Careful:** this erases automations."))
    db.session.commit()
    assert article.state == "draft" and article.published_at is None
    assert "<strong>Careful:</strong>" in article.body_html and article.render_version > 0
    assert [t.name for t in article.tags] == ["reset", "setup"]
    assert [(r.number, r.title) for r in articles.revisions_of(article)] == [(1, "Reset the hub to factory settings")]
    entry = _log("create_article")[0]
    assert (entry.actor_id, entry.target_type, entry.target_id) == (agent.id, "article", article.id)


def test_members_may_not_write_or_edit_articles(make_user, write) -> None:
    member = make_user()
    with pytest.raises(PermissionDenied):
        articles.create_article(member, _input())
    article = write()
    with pytest.raises(PermissionDenied):
        articles.edit_article(member, article, _input(title="A member's forged title here"))
    with pytest.raises(PermissionDenied):
        articles.set_state(member, article, "published")


@pytest.mark.parametrize(("fields", "field"), [
    ({"title": "Too short"}, "title"),
    ({"body": "tiny"}, "body"),
    ({"body": "x" * 30_001}, "body"),
    ({"tags": "   "}, "tags"),
    ({"tags": "a b c d e f"}, "tags"),
])
def test_bad_input_names_the_field(agent, fields: dict[str, str], field: str) -> None:
    with pytest.raises(FieldError) as err:
        articles.create_article(agent, _input(**fields))
    assert err.value.field == field


def test_an_edit_is_a_new_revision_and_an_empty_edit_is_refused(write, make_user) -> None:
    article = write()
    moderator = make_user(role="moderator")
    articles.edit_article(moderator, article, _input(title="Reset the Gen 2 hub to factory settings",
                                                     body=BODY + "\n\nGen 2: use the app.", tags="setup"), "gen 2")
    db.session.commit()
    revs = articles.revisions_of(article)
    assert [(r.number, r.author_id, r.tags, r.summary) for r in revs] == [
        (1, article.author_id, "reset setup", ""), (2, moderator.id, "setup", "gen 2")]
    with pytest.raises(InvalidState):
        articles.edit_article(moderator, article, _input(title=article.title, body=article.body, tags="setup"))


def test_article_tags_never_move_question_counts(write, make_question) -> None:
    make_question(tags="setup")
    write(tags="setup brand-new-tag", state="published")
    counts = dict(db.session.execute(select(Tag.name, Tag.question_count)).all())
    assert counts == {"setup": 1, "brand-new-tag": 0}


# ---------------------------------------------------------------- states


def test_publish_archive_and_unpublish_are_logged_and_keep_first_publication_time(write, agent) -> None:
    article = write()
    articles.set_state(agent, article, "published")
    db.session.commit()
    first = article.published_at
    assert article.is_published and first is not None
    articles.set_state(agent, article, "archived")
    articles.set_state(agent, article, "draft")
    articles.set_state(agent, article, "published")
    db.session.commit()
    assert article.published_at == first
    assert [json.loads(e.after)["state"] for e in _log("publish_article")] == ["published", "published"]
    archived = _log("archive_article")[0]
    assert json.loads(archived.before) == {"state": "published", "title": article.title}
    assert len(_log("unpublish_article")) == 1


def test_a_state_change_to_the_same_or_an_unknown_state_is_refused(write, agent) -> None:
    article = write(state="published")
    with pytest.raises(InvalidState):
        articles.set_state(agent, article, "published")
    with pytest.raises(FieldError):
        articles.set_state(agent, article, "deleted")


def test_drafts_and_archived_articles_are_hidden_from_members(write, make_user, agent) -> None:
    member = make_user()
    draft, published, archived = write(), write(state="published"), write(state="archived")
    for viewer in (None, member):
        with pytest.raises(NotFound):
            articles.get_article(draft.id, viewer)
        with pytest.raises(NotFound):
            articles.get_article(archived.id, viewer)
        assert articles.get_article(published.id, viewer) is published
        page = articles.list_articles(viewer, 1, state="all")
        assert [a.id for a in page.items] == [published.id]
    assert {a.id for a in articles.list_articles(agent, 1, state="all").items} == {draft.id, published.id, archived.id}
    assert [a.id for a in articles.list_articles(agent, 1, state="draft").items] == [draft.id]


def test_the_list_is_paginated_newest_first_with_a_stable_order(app: Flask, write, agent) -> None:
    app.config["PER_PAGE"] = 3
    made = [write(title=f"Published guide number {i}", state="published") for i in range(7)]
    same_time = made[0].published_at
    for a in made:
        a.published_at = same_time  # ties must still give one order
    db.session.commit()
    pages = [articles.list_articles(None, n) for n in (1, 2, 3)]
    ids = [a.id for p in pages for a in p.items]
    assert ids == sorted((a.id for a in made), reverse=True)
    assert pages[0].total == 7 and pages[2].pages == 3


# ---------------------------------------------------------------- "Was this helpful?"


def test_one_answer_per_user_and_a_second_answer_changes_the_first(write, make_user) -> None:
    article = write(state="published")
    alice, bob = make_user(), make_user()
    articles.rate_article(alice, article, True)
    articles.rate_article(alice, article, True)
    articles.rate_article(bob, article, True)
    db.session.commit()
    assert (article.helpful_yes, article.helpful_no) == (2, 0)
    articles.rate_article(alice, article, False)
    db.session.commit()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert db.session.scalar(select(func.count(ArticleFeedback.id))) == 2
    assert articles.article_page(article, alice).my_vote is False
    assert articles.recount_feedback(article) == (1, 1)


def test_only_signed_in_users_rate_and_only_published_articles(write, make_user) -> None:
    with pytest.raises(PermissionDenied):
        articles.rate_article(None, write(state="published"), True)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        articles.rate_article(make_user(), write(), True)


def _run_threads(app: Flask, jobs: list[tuple[int, bool]], article_id: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def worker(user_id: int, helpful: bool) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                article = db.session.get(Article, article_id)
                barrier.wait()
                articles.rate_article(user, article, helpful)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_concurrent_votes_are_counted_exactly(app: Flask, write, make_user) -> None:
    """Eight readers at once, then the same reader clicking twice at once: counters equal the rows."""
    article = write(state="published")
    users = [make_user().id for _ in range(8)]
    errors = _run_threads(app, [(uid, i % 3 != 0) for i, uid in enumerate(users)], article.id)
    assert not errors, errors
    errors = _run_threads(app, [(users[0], True)] * 4 + [(users[1], False)] * 4, article.id)
    assert not errors, errors
    db.session.expire_all()
    fresh = db.session.get(Article, article.id)
    real_yes = db.session.scalar(select(func.count()).where(ArticleFeedback.helpful.is_(True)))
    real_no = db.session.scalar(select(func.count()).where(ArticleFeedback.helpful.is_(False)))
    assert real_yes + real_no == 8
    assert (fresh.helpful_yes, fresh.helpful_no) == (real_yes, real_no) == (5, 3)


# ---------------------------------------------------------------- promote to article


@pytest.fixture
def solved(make_question, make_answer):
    q = make_question(title="Hub blinks orange after the update", body="Since 4.2 the ring blinks orange all day.",
                      tags="firmware setup")
    make_answer(q, body="Decoy answer that was not accepted.")
    a = make_answer(q, body="Unplug the hub for 30 seconds, then re-pair it in the app.")
    q.accepted_answer_id = a.id
    db.session.commit()
    return q


def test_promote_drafts_the_problem_then_the_solution_and_logs_it(solved, agent) -> None:
    article, created = articles.promote_question(agent, solved)
    db.session.commit()
    assert created and article.state == "draft" and article.source_question_id == solved.id
    assert article.title == solved.title and [t.name for t in article.tags] == ["firmware", "setup"]
    body = article.body
    assert body.index("The problem") < body.index("Since 4.2") < body.index("The solution") < body.index("Unplug the hub")
    assert "Decoy" not in body
    entry = _log("promote_article")[0]
    assert entry.target_id == article.id and json.loads(entry.before)["question_id"] == solved.id
    assert articles.revisions_of(article)[0].summary == f"Promoted from question #{solved.id}"


def test_promoting_again_returns_the_existing_article(solved, agent, make_user) -> None:
    first, _ = articles.promote_question(agent, solved)
    articles.set_state(agent, first, "published")
    db.session.commit()
    again, created = articles.promote_question(make_user(role="admin"), solved)
    assert again.id == first.id and not created
    assert db.session.scalar(select(func.count(Article.id))) == 1


def test_staff_promoting_at_the_same_moment_get_one_article(app: Flask, solved, make_user) -> None:
    staff = [make_user(role="agent").id for _ in range(4)]
    question_id, made, errors = solved.id, [], []
    barrier = threading.Barrier(len(staff))

    def worker(user_id: int) -> None:
        try:
            with app.app_context():
                user, question = db.session.get(User, user_id), db.session.get(Question, question_id)
                barrier.wait()
                article, _ = articles.promote_question(user, question)
                db.session.commit()
                made.append(article.id)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in staff]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(set(made)) == 1 and db.session.scalar(select(func.count(Article.id))) == 1


def test_only_staff_promote_and_only_solved_questions(solved, make_question, make_user, agent) -> None:
    with pytest.raises(PermissionDenied):
        articles.promote_question(make_user(), solved)
    with pytest.raises(PermissionDenied):
        articles.promote_question(agent, make_question())
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_the_question_shows_its_article_published_to_all_and_draft_to_staff(solved, agent, make_user) -> None:
    article, _ = articles.promote_question(agent, solved)
    db.session.commit()
    member = make_user()
    assert articles.article_for_question(solved.id, member) is None
    assert articles.article_for_question(solved.id, agent) is article
    articles.set_state(agent, article, "published")
    db.session.commit()
    assert articles.article_for_question(solved.id, None) is article
    page = articles.article_page(article, None)
    assert isinstance(page.source_question, Question) and page.source_question.id == solved.id


# ---------------------------------------------------------------- search documents


def test_published_articles_are_indexed_and_others_removed(write, agent) -> None:
    article = write(title="Replace the hub battery safely", body="Unscrew the back plate " + BODY)
    assert keys("battery") == []  # drafts are not searchable
    articles.set_state(agent, article, "published")
    db.session.commit()
    assert keys("battery is:article") == [f"article:{article.id}"]
    assert keys("battery is:question") == []
    articles.edit_article(agent, article, _input(title="Replace the hub battery and back plate",
                                                 body="Unscrew the zircon back plate " + BODY))
    db.session.commit()
    assert keys("zircon") == [f"article:{article.id}"]
    articles.set_state(agent, article, "archived")
    db.session.commit()
    assert keys("battery") == []


def test_rebuild_count_and_check_include_published_articles(write, make_question) -> None:
    make_question(title="A question about the hub battery", body=BODY)
    published = write(title="Replace the hub battery safely", state="published")
    write(title="Draft about the hub battery")
    get_index().rebuild([])
    from sqlalchemy.orm import Session
    with Session(db.engine) as session:
        assert count_documents(session) == 2
    assert rebuild() == 2
    assert sorted(k.split(":")[0] for k in keys("battery")) == ["article", "question"]
    get_index().delete([f"article:{published.id}"])
    assert check(repair=True)["missing"] == [f"article:{published.id}"]
    assert check() == {"missing": [], "stale": [], "extra": []}
