"""Checks on the shape and consistency of the demo community data."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import forum.demo.content as demo
from forum.demo.content import (
    DEMO_PASSWORD,
    QUESTIONS,
    TAGS,
    USERS,
    AnswerSpec,
    CommentSpec,
    QuestionSpec,
    TagSpec,
    UserSpec,
)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
TAG_RE = re.compile(r"^[a-z0-9+#.-]{1,35}$")
RESERVED_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@example\.(com|org|net)$")
MARKDOWN_LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
ROLES = {"member", "agent", "moderator", "admin"}

ROLE_OF = {u["username"]: u["role"] for u in USERS}
TAG_NAMES = {t["name"] for t in TAGS}


# --- helpers ---------------------------------------------------------------


def all_answers() -> list[tuple[QuestionSpec, AnswerSpec]]:
    return [(q, a) for q in QUESTIONS for a in q["answers"]]


def all_comments() -> list[tuple[float, CommentSpec]]:
    """Every comment with the minutes_after of its parent (0 for a question)."""
    out: list[tuple[float, CommentSpec]] = []
    for q in QUESTIONS:
        out.extend((0.0, c) for c in q["comments"])
        for a in q["answers"]:
            out.extend((a["minutes_after"], c) for c in a["comments"])
    return out


def all_markdown_texts() -> list[str]:
    texts = [u["bio"] for u in USERS]
    for q in QUESTIONS:
        texts.append(q["body"])
        texts.extend(c["body"] for c in q["comments"])
        for a in q["answers"]:
            texts.append(a["body"])
            texts.extend(c["body"] for c in a["comments"])
    return texts


def check_keys(obj: dict, spec: type) -> None:
    keys = set(obj)
    required = set(spec.__required_keys__)
    allowed = required | set(spec.__optional_keys__)
    assert required <= keys, f"missing {required - keys} in {obj!r:.120}"
    assert keys <= allowed, f"unexpected {keys - allowed} in {obj!r:.120}"


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- module shape ------------------------------------------------------------


def test_content_is_data_files_read_with_the_standard_library_only() -> None:
    tree = ast.parse(Path(demo.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.startswith("Demo community for `flask forum seed-demo`")
    data = resources.files("forum.demo") / "data"
    files = sorted(f.name for f in data.iterdir() if f.name.endswith(".toml"))
    assert files == ["articles.toml", "curation.toml", "questions.toml", "support.toml", "tags.toml", "users.toml"]
    for name in files:
        assert tomllib.loads((data / name).read_text(encoding="utf-8"))


def test_typed_dict_optional_keys() -> None:
    # Guards against `from __future__ import annotations` + NotRequired,
    # which silently makes every key required on Python 3.11.
    assert AnswerSpec.__optional_keys__ == {"accepted", "score_hint"}
    assert QuestionSpec.__optional_keys__ == {"score_hint"}
    assert UserSpec.__optional_keys__ == frozenset()
    assert TagSpec.__optional_keys__ == frozenset()
    assert CommentSpec.__optional_keys__ == frozenset()


def test_demo_password() -> None:
    assert DEMO_PASSWORD == "demo-password-123"


# --- users -------------------------------------------------------------------


def test_users_shape() -> None:
    assert 10 <= len(USERS) <= 14
    for user in USERS:
        check_keys(user, UserSpec)
        assert USERNAME_RE.match(user["username"]), user["username"]
        assert RESERVED_EMAIL_RE.match(user["email"]), user["email"]
        assert user["role"] in ROLES
        assert user["display_name"].strip() == user["display_name"] != ""
        assert user["bio"].strip() == user["bio"] != ""
        assert len(user["display_name"]) <= 80
        assert len(user["bio"]) <= 500


def test_users_unique() -> None:
    usernames = [u["username"].lower() for u in USERS]
    emails = [u["email"].lower() for u in USERS]
    names = [u["display_name"] for u in USERS]
    assert len(set(usernames)) == len(usernames)
    assert len(set(emails)) == len(emails)
    assert len(set(names)) == len(names)


def test_user_roles() -> None:
    roles = Counter(u["role"] for u in USERS)
    assert roles["agent"] == 2
    assert roles["moderator"] == 1
    assert roles["admin"] == 1
    assert 7 <= roles["member"] <= 10


# --- tags --------------------------------------------------------------------


def test_tags() -> None:
    assert 8 <= len(TAGS) <= 12
    for tag in TAGS:
        check_keys(tag, TagSpec)
        assert TAG_RE.match(tag["name"]), tag["name"]
        assert 10 <= len(tag["description"]) <= 300
    assert len(TAG_NAMES) == len(TAGS)


def test_every_tag_is_used() -> None:
    used = {t for q in QUESTIONS for t in q["tags"]}
    assert used == TAG_NAMES


# --- questions ---------------------------------------------------------------


def test_question_count_and_shape() -> None:
    assert 28 <= len(QUESTIONS) <= 34
    for q in QUESTIONS:
        check_keys(q, QuestionSpec)
        assert isinstance(q["comments"], list)
        assert isinstance(q["answers"], list)


def test_titles() -> None:
    titles = [q["title"] for q in QUESTIONS]
    for title in titles:
        assert 10 <= len(title) <= 150, title
        assert title == title.strip()
        assert "\n" not in title
    assert len({t.casefold() for t in titles}) == len(titles)


def test_question_bodies() -> None:
    for q in QUESTIONS:
        assert 30 <= len(q["body"]) <= 30_000, q["title"]
        assert q["body"] == q["body"].strip()


def test_question_tags() -> None:
    for q in QUESTIONS:
        assert 1 <= len(q["tags"]) <= 5, q["title"]
        assert len(set(q["tags"])) == len(q["tags"]), q["title"]
        assert set(q["tags"]) <= TAG_NAMES, q["title"]


def test_days_ago_spread() -> None:
    days = [q["days_ago"] for q in QUESTIONS]
    for d in days:
        assert is_number(d)
        assert 0.2 <= d <= 60
    assert len(set(days)) == len(days)
    assert min(days) <= 1
    assert max(days) >= 50
    # Spread: at least a few questions in each third of the range.
    assert sum(d < 20 for d in days) >= 5
    assert sum(20 <= d < 40 for d in days) >= 5
    assert sum(d >= 40 for d in days) >= 5


# --- authorship ----------------------------------------------------------------


def test_every_author_is_a_user() -> None:
    for q in QUESTIONS:
        assert q["author"] in ROLE_OF, q["author"]
        for a in q["answers"]:
            assert a["author"] in ROLE_OF, a["author"]
    for _, c in all_comments():
        assert c["author"] in ROLE_OF, c["author"]


def test_nobody_answers_own_question() -> None:
    for q, a in all_answers():
        assert a["author"] != q["author"], q["title"]


def test_customers_ask_the_questions() -> None:
    assert all(ROLE_OF[q["author"]] == "member" for q in QUESTIONS)


# --- answers -------------------------------------------------------------------


def test_answers_shape() -> None:
    for q, a in all_answers():
        check_keys(a, AnswerSpec)
        assert 30 <= len(a["body"]) <= 30_000, q["title"]
        assert a["body"] == a["body"].strip()
        assert isinstance(a["comments"], list)


def test_answer_count_mix() -> None:
    counts = Counter(len(q["answers"]) for q in QUESTIONS)
    assert all(0 <= n <= 5 for n in counts)
    assert 3 <= counts[0] <= 6, "expected ~4 unanswered questions"
    for n in (1, 2, 3, 4):
        assert counts[n] >= 1, f"no question with {n} answers"
    assert counts[1] >= 3 and counts[2] >= 3


def test_answers_from_customers_and_agents() -> None:
    roles = Counter(ROLE_OF[a["author"]] for _, a in all_answers())
    assert roles["agent"] >= 10
    assert roles["member"] >= 10
    agents = {u["username"] for u in USERS if u["role"] == "agent"}
    assert agents <= {a["author"] for _, a in all_answers()}, "every agent answers"


def test_accepted_answers() -> None:
    answered = [q for q in QUESTIONS if q["answers"]]
    with_accepted = 0
    by_role: Counter[str] = Counter()
    for q in answered:
        accepted = [a for a in q["answers"] if "accepted" in a]
        for a in accepted:
            assert a["accepted"] is True
            by_role[ROLE_OF[a["author"]]] += 1
        assert len(accepted) <= 1, q["title"]
        with_accepted += len(accepted)
    assert 0.35 <= with_accepted / len(answered) <= 0.65
    # Customers help customers: /insights' "accepted answers written by the community" is not 0.
    assert by_role["agent"] > by_role["member"] >= 1


def test_score_hints() -> None:
    hints = [q["score_hint"] for q in QUESTIONS if "score_hint" in q]
    hints += [a["score_hint"] for _, a in all_answers() if "score_hint" in a]
    assert len(hints) >= 20
    for h in hints:
        assert isinstance(h, int) and not isinstance(h, bool)
        assert 0 <= h <= 25
    assert any("score_hint" not in q for q in QUESTIONS)
    assert any("score_hint" not in a for _, a in all_answers())


# --- timing --------------------------------------------------------------------


def test_answer_timing() -> None:
    for q, a in all_answers():
        m = a["minutes_after"]
        assert is_number(m) and m > 0, q["title"]
        # Nothing is posted in the future.
        assert m < q["days_ago"] * 24 * 60, q["title"]


def test_comment_timing() -> None:
    for q in QUESTIONS:
        limit = q["days_ago"] * 24 * 60
        for c in q["comments"]:
            assert is_number(c["minutes_after"]) and 0 < c["minutes_after"] < limit
        for a in q["answers"]:
            for c in a["comments"]:
                m = c["minutes_after"]
                assert is_number(m), q["title"]
                assert a["minutes_after"] < m < limit, (q["title"], c["body"][:40])


# --- comments ------------------------------------------------------------------


def test_comment_length_and_inline_markdown() -> None:
    block_start = re.compile(r"^\s*(#|>|[-*+]\s|\d+[.)]\s|\|)")
    for _, c in all_comments():
        body = c["body"]
        check_keys(c, CommentSpec)
        assert 3 <= len(body) <= 600, body
        assert body == body.strip()
        assert "\n" not in body, body
        assert not block_start.match(body), body
        assert "```" not in body and "~~~" not in body, body
        assert "![" not in body, body
        assert not re.search(r"<[A-Za-z/]", body), body


def test_no_repeated_comment_text_per_author() -> None:
    seen = Counter((c["author"], c["body"].strip().casefold()) for _, c in all_comments())
    assert [key for key, n in seen.items() if n > 1] == []


# --- content flavour -------------------------------------------------------------


def test_markdown_variety() -> None:
    bodies = [q["body"] for q in QUESTIONS] + [a["body"] for _, a in all_answers()]
    assert sum("```" in b for b in bodies) >= 1
    assert any(re.search(r"^\|[-| :]+\|$", b, re.M) for b in bodies), "a table"
    assert any(re.search(r"^\d+\. ", b, re.M) for b in bodies), "an ordered list"
    assert any(re.search(r"^- ", b, re.M) for b in bodies), "a bullet list"
    for b in bodies:
        assert b.count("```") % 2 == 0, "unbalanced code fence"
    lengths = [len(b) for b in bodies]
    assert min(lengths) < 120 and max(lengths) > 1000, "mix of terse and detailed"


def test_links_are_relative_or_reserved() -> None:
    targets = [t for text in all_markdown_texts() for t in MARKDOWN_LINK_RE.findall(text)]
    assert any(t.startswith("/") for t in targets)
    for target in targets:
        assert target.startswith("/") or re.match(
            r"^https?://([a-z0-9-]+\.)*example\.(com|org|net)(/|$)", target
        ), target


def test_no_control_characters_or_tabs() -> None:
    for text in all_markdown_texts():
        assert "\t" not in text
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def test_heated_billing_question_gets_calm_agent_reply() -> None:
    matches = [
        q
        for q in QUESTIONS
        if "billing" in q["tags"] and re.search(r"twice|double", q["title"], re.I)
    ]
    assert len(matches) == 1
    q = matches[0]
    assert ROLE_OF[q["author"]] == "member"
    assert "!" in q["title"] or q["title"].isupper() or re.search(r"[A-Z]{4,}", q["title"])
    agent_answers = [a for a in q["answers"] if ROLE_OF[a["author"]] == "agent"]
    assert agent_answers
    reply = agent_answers[0]["body"]
    assert re.search(r"sorry|apolog", reply, re.I)
    assert "!" not in reply


def test_outage_question_has_same_here_comments() -> None:
    matches = [q for q in QUESTIONS if q["title"] == "Hub offline since this morning?"]
    assert len(matches) == 1
    q = matches[0]
    same_here = [c for c in q["comments"] if re.search(r"\bsame\b", c["body"], re.I)]
    assert len(same_here) >= 3
    assert len({c["author"] for c in same_here}) == len(same_here)
    assert q["author"] not in {c["author"] for c in same_here}
    assert any(ROLE_OF[a["author"]] == "agent" for a in q["answers"])
    assert q["days_ago"] <= 1


def test_staff_participate_beyond_answers() -> None:
    commenters = {c["author"] for _, c in all_comments()}
    assert any(ROLE_OF.get(u) == "moderator" for u in commenters)
    assert any(ROLE_OF.get(u) == "admin" for u in commenters)
