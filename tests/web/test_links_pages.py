"""Linked-thread cards, "Linked from" lists and the composer's JSON helpers, as pages show them."""
from __future__ import annotations

import re

from sqlalchemy import update

from forum.extensions import db
from forum.models import Question
from forum.services import articles, curation, questions
from tests.support import shared_data_dir
from tests.web.test_payloads_inert import load_payloads, scan


def cards(page: str) -> list[str]:
    """The text of each linked-thread card, tags stripped and whitespace collapsed."""
    found = re.findall(r'<li class="link-card[^"]*"[^>]*>(.*?)</li>', page, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in found]


def section(page: str, heading_id: str) -> str:
    """The backlinks section labelled by ``heading_id`` ("" when the page has none)."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, flags=re.S)
    return match.group(0) if match else ""


def test_a_linked_thread_shows_as_a_card_with_fresh_title_score_and_solved_mark(
        client, make_user, make_question, make_answer) -> None:
    target = make_question(title="Hub blinks orange after firmware 4.2")
    source = make_question(body=f"Same as #{target.id}, the light keeps blinking.")
    page = client.get(f"/questions/{source.id}", follow_redirects=True).get_data(as_text=True)
    assert cards(page) == ["0 Hub blinks orange after firmware 4.2"]
    assert f'<a class="post-link" data-link="question:{target.id}" href="/questions/{target.id}">#{target.id}</a>' in page

    # The target changes after the link was written: the card follows.
    answer = make_answer(target)
    curation.accept_answer(target.author, answer)
    questions.edit_question(target.author, target, questions.QuestionInput(
        "Hub blinks orange after firmware 4.3", target.body, "setup"))
    db.session.execute(update(Question).where(Question.id == target.id).values(score=7))
    db.session.commit()
    page = client.get(f"/questions/{source.id}", follow_redirects=True).get_data(as_text=True)
    assert cards(page) == ["7 Hub blinks orange after firmware 4.3 Solved"]


def test_article_cards_say_official_and_closed_threads_say_so(client, make_user, make_question) -> None:
    staff = make_user(role="agent")
    article = articles.create_article(staff, articles.ArticleInput("Factory reset, step by step", "Hold it " * 5, "setup"))
    articles.set_state(staff, article, "published")
    original, closed = make_question(title="Original pairing question"), make_question(title="Duplicate pairing question")
    curation.close_question(staff, closed, "duplicate", duplicate_of=original)
    db.session.commit()
    source = make_question(body=f"Read /articles/{article.id} and #{closed.id} first, please.")
    page = client.get(f"/questions/{source.id}", follow_redirects=True).get_data(as_text=True)
    assert cards(page) == ["Official Factory reset, step by step", "0 Duplicate pairing question Duplicate"]


def test_invisible_targets_show_no_card_and_no_title(client, auth, make_user, make_question) -> None:
    staff = make_user("agent_ann", role="agent")
    draft = articles.create_article(staff, articles.ArticleInput("Secret upcoming recall notice", "Draft text " * 3,
                                                                 "setup"))
    gone = make_question(title="Embarrassing deleted question")
    questions.delete_question(gone.author, gone)
    db.session.commit()
    source = make_question(body=f"See [this](/articles/{draft.id}) and #{gone.id} for details.")
    page = client.get(f"/questions/{source.id}", follow_redirects=True).get_data(as_text=True)
    assert cards(page) == []
    assert "Secret upcoming recall" not in page and "Embarrassing deleted" not in page

    auth.login("agent_ann")  # staff see them, marked
    page = client.get(f"/questions/{source.id}", follow_redirects=True).get_data(as_text=True)
    assert cards(page) == ["Official Secret upcoming recall notice Draft", "0 Embarrassing deleted question Deleted"]


def test_the_target_lists_linked_from_and_duplicates(client, make_user, make_question, make_answer) -> None:
    target = make_question(title="Original thread about Zigbee range")
    linking = make_question(title="Thread that links to the original")
    answer = make_answer(linking, body=f"Answered in /questions/{target.id} already.")
    dupe = make_question(title="Same Zigbee range problem again")
    curation.close_question(make_user(role="agent"), dupe, "duplicate", duplicate_of=target)
    db.session.commit()
    page = client.get(f"/questions/{target.id}", follow_redirects=True).get_data(as_text=True)
    assert "Thread that links to the original" in section(page, "linked-from-heading")
    assert "Same Zigbee range problem again" in section(page, "duplicates-heading")

    db.session.execute(update(type(answer)).where(type(answer).id == answer.id).values(hidden_at=answer.created_at))
    db.session.commit()
    page = client.get(f"/questions/{target.id}", follow_redirects=True).get_data(as_text=True)
    assert section(page, "linked-from-heading") == "" and "Same Zigbee" in section(page, "duplicates-heading")


def test_the_article_page_shows_its_backlinks(client, make_user, make_question) -> None:
    staff = make_user(role="agent")
    article = articles.create_article(staff, articles.ArticleInput("Placing the hub for best range", "Put it " * 5,
                                                                   "setup"))
    articles.set_state(staff, article, "published")
    db.session.commit()
    make_question(title="Range got better after moving the hub", body=f"Thanks to /articles/{article.id} it works.")
    page = client.get(f"/articles/{article.id}", follow_redirects=True).get_data(as_text=True)
    assert "Range got better after moving the hub" in section(page, "linked-from-heading")


def test_question_page_queries_do_not_grow_with_links(client, make_question, make_answer, count_queries) -> None:
    targets = [make_question() for _ in range(12)]

    def thread(n: int) -> str:
        q = make_question(body="Related threads to read first: " + " ".join(f"#{t.id}" for t in targets[:n]))
        for t in targets[:n]:
            make_answer(q, body=f"Also see #{t.id} and #{targets[-1].id}.")
            make_question(body=f"Back to #{q.id} from here.")  # backlinks too
        return f"/questions/{q.id}"

    few, many = thread(2), thread(11)
    client.get(few, follow_redirects=True)
    with count_queries() as small:
        assert client.get(few, follow_redirects=True).status_code == 200
    with count_queries() as large:
        page = client.get(many, follow_redirects=True)
    assert page.status_code == 200 and len(cards(page.get_data(as_text=True))) == 11 + 11 * 2
    assert small.count == large.count, (small.statements, large.statements)


def test_payload_titles_stay_inert_in_cards_backlinks_and_mentions(client, make_user, make_question) -> None:
    root = shared_data_dir()
    if root is None:
        import pytest
        pytest.skip("shared security corpus not present")
    payloads = [p for p in load_payloads(root) if len(p.strip()) >= 10][:60]
    targets = [make_question(title=p.replace("\n", " ")[:150]) for p in payloads]
    make_user("payload_fan")
    source = make_question(body="Linking them all @payload_fan: " + " ".join(f"#{t.id}" for t in targets))
    pages = [f"/questions/{source.id}", f"/questions/{targets[0].id}"]
    for path in pages:
        r = client.get(path, follow_redirects=True)
        assert r.status_code == 200 and not scan(r.get_data(as_text=True)), path


def test_link_search_finds_by_number_link_and_words_for_signed_in_members(client, auth, make_user, make_question) -> None:
    target = make_question(title="Thermostat loses schedule overnight")
    hidden = make_question(title="Thermostat secret hidden question")
    db.session.execute(update(Question).where(Question.id == hidden.id).values(hidden_at=hidden.created_at))
    db.session.commit()
    assert client.get("/links/search?q=thermostat").status_code == 302  # sign in first
    make_user("writer")
    auth.login("writer")
    by_number = client.get(f"/links/search?q=%23{target.id}").get_json()["results"]
    assert by_number == [{"id": target.id, "kind": "question", "title": "Thermostat loses schedule overnight",
                          "url": by_number[0]["url"], "path": f"/questions/{target.id}", "solved": False}]
    assert by_number[0]["url"].startswith(f"/questions/{target.id}/thermostat-loses")
    by_link = client.get(f"/links/search?q=http://127.0.0.1:5000/questions/{target.id}/x").get_json()["results"]
    assert [r["id"] for r in by_link] == [target.id]
    assert client.get(f"/links/search?q=%23{hidden.id}").get_json()["results"] == []
    by_words = client.get("/links/search?q=thermostat schedule").get_json()["results"]
    assert [r["id"] for r in by_words] == [target.id]


def test_user_suggestions_need_sign_in_and_return_usernames(client, auth, make_user) -> None:
    make_user("maria_k")
    make_user("marek")
    assert client.get("/users/suggest?q=mar").status_code == 302
    auth.login("marek")
    results = client.get("/users/suggest?q=MARI").get_json()["results"]
    assert [r["username"] for r in results] == ["maria_k"] and results[0]["url"].startswith("/users/")
