"""Text already in a form comes with what the scripts would draw for it: the Markdown preview,
the note on new tags and the similar questions are in the served page, so nothing appears after
the load to push the submit button from under a quick click (tests/e2e/test_new_customer_walk.py
checks the button does not move in Chromium)."""
from __future__ import annotations

import re

import pytest

from forum.extensions import db
from forum.services import drafts


def _section(html: str, opening: str) -> str:
    return opening + html.split(opening, 1)[1].split("</section>", 1)[0]


def _tag_preview(html: str) -> str:
    return re.search(r'<p class="tag-preview[^"]*" id="tags-preview".*?</p>', html, re.S).group(0)


@pytest.fixture
def maria(auth, make_user):
    user = make_user("maria")
    auth.login("maria")
    return user


def test_a_rejected_question_comes_back_with_its_preview_and_new_tag_note(auth, maria, make_question) -> None:
    make_question(title="Hub setup on a mesh network", tags="setup")
    r = auth.post("/questions/ask", {"title": "Hub?", "tags": "setup brand-new-tag",
                                     "body": "**Reset** the hub first.\n\n<script>alert(1)</script>"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Reset** the hub first." in html  # the text stays in the form
    preview = _section(html, '<section class="preview"')
    assert " hidden" not in preview.split(">", 1)[0]
    assert "<strong>Reset</strong> the hub first." in preview and "<script" not in preview
    note = _tag_preview(html)
    assert " hidden" not in note.split(">", 1)[0]
    assert '<span class="tag tag-new">brand-new-tag</span>' in note and ">setup<" not in note  # setup exists
    assert "New tag: " in note


def test_the_note_says_what_creating_a_tag_needs_for_a_member_without_the_privilege(
        auth, maria, make_question, app) -> None:
    app.config["PRIVILEGE_CREATE_TAG"] = 10_000
    r = auth.post("/questions/ask", {"title": "Hub?", "tags": "two new", "body": ""})
    note = _tag_preview(r.get_data(as_text=True))
    assert "tag-preview-refused" in note.split(">", 1)[0]
    assert "New tags: " in note and "Pick an existing tag." in note
    assert "Several words of one tag are joined with hyphens (two-new)." in note


def test_an_empty_ask_page_draws_nothing_yet(client, maria) -> None:
    html = client.get("/questions/ask").get_data(as_text=True)
    assert _section(html, '<section class="preview"').split(">", 1)[0].endswith(" hidden")
    assert _tag_preview(html).split(">", 1)[0].endswith(" hidden")
    assert '<section class="similar card"' in html


def test_the_edit_page_shows_the_preview_of_the_text_being_edited(auth, client, make_question, make_user) -> None:
    author = make_user("tomas")
    question = make_question(author=author, title="Hub blinks orange after update", body="Try *unplugging* it.",
                             tags="firmware")
    auth.login("tomas")
    html = client.get(f"/questions/{question.id}/edit").get_data(as_text=True)
    preview = _section(html, '<section class="preview"')
    assert " hidden" not in preview.split(">", 1)[0] and "<em>unplugging</em>" in preview
    assert _tag_preview(html).split(">", 1)[0].endswith(" hidden")  # firmware exists


def test_an_answer_being_edited_and_a_restored_answer_draft_come_with_their_preview(
        auth, client, make_question, make_answer, make_user) -> None:
    helper = make_user("tomas")
    question = make_question(title="Hub blinks orange after update", tags="firmware")
    answer = make_answer(question, author=helper, body="Hold the button for **ten** seconds.")
    auth.login("tomas")
    preview = _section(client.get(f"/answers/{answer.id}/edit").get_data(as_text=True), '<section class="preview"')
    assert " hidden" not in preview.split(">", 1)[0] and "<strong>ten</strong>" in preview
    other = make_user("ines")
    drafts.save_draft(other, f"answer:{question.id}", drafts.DraftText(body="Mine needed a _factory reset_."))
    db.session.commit()
    auth.logout()
    auth.login("ines")
    page = client.get(f"/questions/{question.id}", follow_redirects=True).get_data(as_text=True)
    preview = _section(page, '<section class="preview"')
    assert "<em>factory reset</em>" in preview and " hidden" not in preview.split(">", 1)[0]
