"""End-to-end curation flows in a real browser: flagging and moderation, accepting answers and
closing duplicates.

Every person has their own browser context (``new_page``), so cookies never leak between a
member, the asker and the moderator. Members sign up through the /register form; staff accounts
can't be made through the site, so ``make_moderator`` creates one through the services (as
``seed_question`` does) and the test then logs in through /login like anyone else.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

# The page-level helpers live beside the first browser flows; reuse them rather than copy them.
from tests.e2e.test_browser_flows import account_menu, header, log_in, register

ABUSIVE_TEXT = "Only a complete idiot would ask this. Go away and stop wasting everyone's time, moron."


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def make_moderator(live) -> Callable[[], str]:
    """``make_moderator()``: a moderator account made through the services; returns its username."""
    from forum.extensions import db
    from forum.models.user import Role
    from forum.services import accounts

    def make() -> str:
        username = unique_username("mod")
        with live.app.app_context():
            try:
                accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD),
                                  role=Role.MODERATOR, allow_reserved=True)
                db.session.commit()
            finally:
                db.session.remove()
        return username

    return make


def question_id(path: str) -> int:
    match = re.match(r"/questions/(\d+)(?:/|$)", path)
    assert match, path
    return int(match.group(1))


def post_answer(page: Page, body: str) -> int:
    """Answer the question open in ``page`` through the thread's form; returns the answer's id."""
    page.locator(".your-answer").get_by_label("Answer", exact=True).fill(body)
    page.get_by_role("button", name="Post your answer").click()
    expect(page).to_have_url(re.compile(r"#answer-\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("Thanks for answering!")
    return int(page.url.rsplit("#answer-", 1)[1])


def screenshot_at_widths(page: Page, directory: Path, name: str) -> None:
    """Full-page shots at 1280 and 360 wide for people to look at (not asserted)."""
    original = page.viewport_size
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(directory / f"{name}-{width}.png"), full_page=True)
    if original:
        page.set_viewport_size(original)


# --------------------------------------------------------------------------- flows

def test_flag_travels_from_member_to_moderator_decision(new_page: Callable[..., Page],
                                                        seed_question: Callable[..., str],
                                                        make_moderator: Callable[[], str],
                                                        artifacts_dir: Path) -> None:
    path = seed_question("Hub pairing fails with error 7 after the firmware update",
                         "Pairing stops at 80% and the app shows error 7. What does it mean?")
    moderator_name = make_moderator()
    author, flagger, moderator = new_page(), new_page(), new_page()

    # Member A answers with abuse.
    register(author, "rude")
    author.goto(path)
    answer_id = post_answer(author, ABUSIVE_TEXT)
    answer_anchor = f"#answer-{answer_id}"

    # Member B reads the thread and flags the answer from the small form under it.
    flagger_name = register(flagger, "flagger")
    flagger.goto(path)
    answer = flagger.locator(answer_anchor)
    expect(answer.locator(".post-body")).to_contain_text("complete idiot")
    flag_form = answer.locator("details.flag-form-wrap")
    flag_form.locator("summary", has_text="Flag").click()
    flag_form.get_by_label("Rude or abusive").check()
    flag_form.get_by_role("button", name="Send flag").click()
    expect(flagger.locator(".flash-success")).to_contain_text("Thanks for the flag")
    expect(flagger).to_have_url(re.compile(re.escape(answer_anchor) + "$"))

    # The moderator finds it in the queue, grouped with B's flag and reason, and hides it.
    log_in(moderator, moderator_name)
    account_menu(moderator).get_by_role("link", name="Moderation").click()
    expect(moderator).to_have_url(re.compile(r"/moderation$"))
    group = moderator.locator(f"#flags-answer-{answer_id}")
    expect(group.locator(".mod-excerpt")).to_contain_text("complete idiot")
    expect(group.locator(".mod-counts")).to_contain_text("Rude or abusive × 1")
    flaggers = group.locator("details.mod-flaggers")
    expect(flaggers.locator("summary")).to_have_text(f"1 flag from {flagger_name}")
    flaggers.locator("summary").click()
    expect(flaggers.locator("li")).to_have_count(1)
    expect(flaggers.locator("li")).to_contain_text(f"{flagger_name} · Rude or abusive")
    screenshot_at_widths(moderator, artifacts_dir, "moderation-queue")
    group.get_by_role("button", name="Hide post").click()
    expect(moderator.locator(".flash-success")).to_contain_text("A moderator hid the post. (1 flag resolved.)")
    expect(moderator.locator(f"#flags-answer-{answer_id}")).to_have_count(0)

    # Neither an anonymous visitor nor another member sees the answer any more.
    visitor = new_page()
    for viewer in (visitor, flagger):
        viewer.goto(path)
        expect(viewer.get_by_role("heading", level=1)).to_contain_text("Hub pairing fails")
        expect(viewer.locator(answer_anchor)).to_have_count(0)
        expect(viewer.locator("main")).not_to_contain_text("complete idiot")
        expect(viewer.locator("#answers-heading")).to_have_text("0 Answers")
    # Its author still sees it, marked as hidden.
    author.goto(path)
    expect(author.locator(answer_anchor).locator(".notice-hidden")).to_contain_text("Hidden by a moderator")

    # B follows the flag to its outcome, through "My flags" in the flag form of the question.
    question_flag = flagger.locator("#question details.flag-form-wrap")
    question_flag.locator("summary", has_text="Flag").click()
    question_flag.get_by_role("link", name="My flags").click()
    expect(flagger).to_have_url(re.compile(r"/flags/mine$"))
    mine = flagger.locator(".my-flag")
    expect(mine).to_have_count(1)
    expect(mine.locator(".flag-status")).to_have_text("Actioned")
    expect(mine.locator(".my-flag-head")).to_contain_text("Rude or abusive · answer")
    expect(mine.locator(".my-flag-outcome")).to_contain_text("A moderator hid the post.")
    expect(mine).to_contain_text("The post is no longer visible.")

    # The moderation log names the moderator and the action.
    moderator.locator("nav.moderation-nav").get_by_role("link", name="Log").click()
    expect(moderator).to_have_url(re.compile(r"/moderation/log$"))
    row = moderator.locator("table.mod-log tbody tr", has=moderator.get_by_role("link", name=f"answer {answer_id}", exact=True))
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1).locator("a.user-link")).to_have_text(moderator_name)
    expect(row.locator("td").nth(1)).to_contain_text("Staff")
    expect(row.locator("td").nth(2)).to_have_text("hide_flagged")


def test_answer_goes_from_posted_to_accepted(new_page: Callable[..., Page], artifacts_dir: Path) -> None:
    asker, early, helper = new_page(), new_page(), new_page()
    title = f"Brightway bridge loses the schedule after a power cut ({unique_username('q')})"

    # The asker asks through the form.
    register(asker, "asker")
    header(asker).get_by_role("link", name="Ask", exact=True).click()
    asker.get_by_label("Title").fill(title)
    asker.get_by_label("Details").fill("Every time the power goes out the bridge forgets all my schedules.")
    asker.get_by_label("Tags").fill("bridge schedules")
    asker.get_by_role("button", name="Post your question").click()
    expect(asker.locator(".flash-success")).to_contain_text("Your question is posted")
    path = urlsplit(asker.url).path

    # Two members answer; the second one has the fix.
    register(early, "early")
    early.goto(path)
    first_id = post_answer(early, "Have you tried turning it off and on again?")
    register(helper, "helper")
    helper.goto(path)
    fix_id = post_answer(helper, "Schedules live in the cloud since 3.2: sign in to the app once and they sync back.")

    asker.goto(path)
    answers = asker.locator(".post-answer")
    expect(answers).to_have_count(2)
    expect(answers.first).to_have_attribute("id", f"answer-{first_id}")  # oldest first while scores tie
    expect(asker.locator(".accepted-mark")).to_have_count(0)

    asker.locator(f"#answer-{fix_id}").get_by_role("button", name="Accept this answer").click()

    expect(asker.locator(".flash-success")).to_contain_text("Answer accepted")
    expect(answers.first).to_have_attribute("id", f"answer-{fix_id}")
    expect(answers.first).to_have_class(re.compile(r"\bpost-accepted\b"))
    expect(answers.first.locator(".accepted-mark")).to_have_text("✓ Accepted by the asker")
    expect(asker.locator(".accepted-mark")).to_have_count(1)
    expect(answers.first.get_by_role("button", name="Withdraw acceptance")).to_be_visible()
    expect(asker.locator("h1 .solved-badge")).to_have_text("Solved")
    screenshot_at_widths(asker, artifacts_dir, "accepted-thread")

    # The helper (any reader) sees the same order and mark, without the asker's buttons.
    helper.goto(path)
    expect(helper.locator(".post-answer").first.locator(".accepted-mark")).to_have_text("✓ Accepted by the asker")
    expect(helper.get_by_role("button", name="Accept this answer")).to_have_count(0)

    # The question lists show it solved, under "Newest" and under the "Solved" tab.
    helper.goto("/questions")
    row = helper.locator(".question-row", has=helper.get_by_role("link", name=title))
    expect(row.locator(".solved-badge")).to_have_text("Solved")
    expect(row.locator(".stat-solved")).to_have_text("✓ 2 answers")
    helper.locator("nav.tabs").get_by_role("link", name="Solved", exact=True).click()
    expect(helper).to_have_url(re.compile(r"/questions\?tab=solved$"))
    expect(helper.locator(".question-row", has=helper.get_by_role("link", name=title)).locator(".solved-badge")
           ).to_have_text("Solved")


def test_staff_close_as_duplicate_shows_the_original_prominently(new_page: Callable[..., Page],
                                                                 seed_question: Callable[..., str],
                                                                 make_moderator: Callable[[], str]) -> None:
    original_title = f"How do I factory-reset the Lumen hub? ({unique_username('o')})"
    original = seed_question(original_title, "Which button, and for how long?", tags="reset")
    duplicate = seed_question("Resetting my Lumen hub to factory settings", "How do I wipe it completely?",
                              tags="reset")
    moderator_name = make_moderator()
    moderator, member = new_page(), new_page()

    log_in(moderator, moderator_name)
    moderator.goto(duplicate)
    moderator.locator(".staff-tools").get_by_role("link", name="Close…").click()
    expect(moderator).to_have_url(re.compile(rf"/questions/{question_id(duplicate)}/close$"))
    moderator.get_by_label("Duplicate of another question").check()
    moderator.get_by_label("Original question (number or link)").fill(f"#{question_id(original)}")
    moderator.get_by_role("button", name="Close question").click()
    expect(moderator.locator(".flash-info")).to_contain_text("Question closed.")
    expect(moderator).to_have_url(re.compile(re.escape(duplicate) + "$"))

    register(member, "reader")
    member.goto(duplicate)
    notice = member.locator(".notice-closed")
    expect(notice).to_contain_text("This question already has an answer here:")
    link = notice.get_by_role("link", name=original_title)
    expect(link).to_have_attribute("href", original)
    expect(member.locator("h1")).to_contain_text("Closed")
    # No way to answer: neither the field nor the button, and the page says why.
    your_answer = member.locator(".your-answer")
    expect(your_answer.get_by_label("Answer", exact=True)).to_have_count(0)
    expect(member.get_by_role("button", name="Post your answer")).to_have_count(0)
    expect(your_answer).to_contain_text("This question doesn't take new answers.")

    link.click()
    expect(member).to_have_url(re.compile(re.escape(original) + "$"))
    expect(member.get_by_role("heading", level=1)).to_have_text(original_title)
    expect(member.get_by_role("button", name="Post your answer")).to_be_visible()
