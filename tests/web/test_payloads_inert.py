"""Every attack payload in the shared corpora, posted as title, body, answer, comment or bio,
comes out of the rendered pages inert.

The Markdown pipeline is tested payload by payload in tests/unit/test_markup.py; this test
checks the pages around it: templates, autoescaping and every place user text lands.
"""
from __future__ import annotations

import html
import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forum.extensions import db
from forum.services import accounts, answers, comments, questions
from tests.support import shared_data_dir

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "input", "meta", "link",
                  "base", "frame", "frameset", "applet", "textarea", "select", "button", "video", "audio", "source"}
# Elements our own layout uses; only user-content regions are scanned for these.
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def load_payloads(root: Path) -> list[str]:
    payloads: list[str] = []
    for path in sorted((root / "security" / "xss").rglob("*")):
        if path.suffix == ".txt":
            for line in path.read_text(encoding="utf-8", errors="replace").replace("\r", "").split("\n"):
                if line.strip() and not line.startswith("#Site:"):
                    payloads.append(line)
                    decoded = urllib.parse.unquote(line)
                    if decoded != line:
                        payloads.append(decoded)
        elif path.suffix == ".json":
            for item in json.loads(path.read_text(encoding="utf-8")):
                if isinstance(item, str):
                    payloads.append(item)
                else:
                    payloads.extend(v for k, v in item.items() if k.startswith("data") and isinstance(v, str))
    return list(dict.fromkeys(p for p in payloads if p.strip()))


class ContentScanner(HTMLParser):
    """Collects dangerous markup found inside the page's user-content regions."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background") and value:
                cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
                if cleaned.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value[:60]!r}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def user_regions(page: str) -> str:
    """The page minus our own <head> and header (which legitimately hold <script>, <form>, <meta>)."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def scan(page: str) -> list[str]:
    scanner = ContentScanner()
    scanner.feed(page)
    problems = scanner.problems
    # Tags that may only appear in the layout, never inside <main> from user text.
    for tag in DANGEROUS_TAGS:
        for match in re.finditer(rf"<{tag}[\s/>]", user_regions(page), flags=re.IGNORECASE):
            snippet = user_regions(page)[match.start():match.start() + 80]
            # Our own forms on the page (answer, comment, delete buttons) are allowed.
            if tag in ("form", "input", "textarea", "button") and ('name="csrf_token"' in snippet or "class=" in snippet
                                                                    or 'type="submit"' in snippet or 'id="' in snippet):
                continue
            # The profile's reputation chart is SVG we draw on the server from numbers only.
            if tag == "svg" and snippet.startswith('<svg class="rep-chart-svg" viewBox='):
                continue
            problems.append(snippet)
    return problems


@pytest.fixture
def payloads() -> list[str]:
    root = shared_data_dir()
    if root is None:
        pytest.skip("shared security corpus not present")
    found = load_payloads(root)
    assert len(found) > 2000
    return found


@pytest.mark.parametrize("fragment", [
    '<img src=x onerror="alert(1)">', '<a href=" javascript:alert(1)">x</a>', "<script>alert(1)</script>",
    '<p style="x">y</p>', '<a href="&#106;avascript:alert(1)">x</a>',
])
def test_the_scanner_catches_live_markup(fragment: str) -> None:
    page = f'<html><head><script src="/static/js/app.js"></script></head><body><main id="main">{fragment}</main></body></html>'
    assert scan(page)


def test_payloads_in_every_user_field_render_inert(app, client, payloads: list[str], make_user) -> None:
    app.config["PER_PAGE"] = 100
    author, helper = make_user("author"), make_user("helper")
    pages: list[str] = []
    batch = 12
    for start in range(0, len(payloads), batch):
        chunk = payloads[start:start + batch]
        title = ("Payload " + chunk[0].replace("\n", " "))[:150].ljust(12, ".")
        body = "\n\n".join(chunk)[:30_000].ljust(20, ".")
        q = questions.ask_question(author, questions.QuestionInput(title, body, "xss"))
        answers.post_answer(helper, q, body)
        for p in chunk[:4]:
            comments.add_comment(helper, q, (p.replace("\n", " ")[:590] or "..").ljust(2, "."))
        pages.append(f"/questions/{q.id}")
    accounts.update_profile(helper, payloads[0][:60], "\n\n".join(payloads[:40])[:3000])
    db.session.commit()

    problems: dict[str, list[str]] = {}
    for path in pages + [f"/users/{helper.id}", "/questions", "/questions?page=2", "/", "/tags/xss"]:
        r = client.get(path, follow_redirects=True)
        assert r.status_code == 200, path
        found = scan(r.get_data(as_text=True))
        if found:
            problems[path] = found[:3]
    assert not problems, f"{len(problems)} pages with live markup: {list(problems.items())[:5]}"
