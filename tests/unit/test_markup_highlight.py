"""Fenced code highlighted at write time (forum.markup.highlight): classes only, text unchanged."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

from forum.markup import render_inline, render_markdown, to_plain_text
from forum.markup.highlight import TOKEN_CLASSES, stylesheet
from forum.markup.sanitise import BLOCK_TAGS, INLINE_TAGS, new_cleaner, sanitise_html

ROOT = Path(__file__).resolve().parents[2]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html_text)
    return parser.tags


def unspanned(html_text: str) -> str:
    return re.sub(r"</?span[^>]*>", "", html_text)


PYTHON = "```python\ndef greet(name):\n    # say hello\n    return f\"<b>{name}</b>\" if name else 42\n```"


def test_known_language_gets_token_classes_and_no_style():
    out = render_markdown(PYTHON)
    spans = [attrs for tag, attrs in tags(out) if tag == "span"]
    assert spans, out
    assert all(set(attrs) == {"class"} and attrs["class"] in TOKEN_CLASSES for attrs in spans)
    assert '<span class="k">def</span>' in out or '<span class="k">def ' in out
    assert '<span class="c1"># say hello' in out
    assert "style" not in out
    # The code reads exactly as written: only spans were added.
    assert unspanned(out) == ('<pre><code class="language-python">def greet(name):\n    # say hello\n'
                              '    return f"&lt;b&gt;{name}&lt;/b&gt;" if name else 42\n</code></pre>')


def test_unknown_language_and_no_language_stay_plain():
    out = render_markdown("```nosuchlanguage\nif x < 1: pass\n```\n\n```\nif x < 1: pass\n```\n\n    if x < 1: pass")
    assert "<span" not in out
    assert '<pre><code class="language-nosuchlanguage">if x &lt; 1: pass\n</code></pre>' in out
    assert out.count("<pre><code>if x &lt; 1: pass\n</code></pre>") == 2


def test_language_aliases_and_info_string_words():
    for info in ("js", "JavaScript", "sh", "c++", "{.python .numbers}"):
        out = render_markdown(f"```{info}\nreturn 1\n```")
        assert "<span" in out, info


def test_code_that_looks_like_markup_stays_text():
    hostile = "```html\n</code></pre><script>alert(1)</script><span style=\"x\" class=\"k\">\n```"
    out = render_markdown(hostile)
    assert not any(tag in ("script",) for tag, _ in tags(out))
    assert all(attrs.get("class") in TOKEN_CLASSES and "style" not in attrs
               for tag, attrs in tags(out) if tag == "span")
    assert "&lt;script&gt;" in unspanned(out) and to_plain_text(out).startswith("</code></pre><script>")


def test_comments_are_never_highlighted():
    assert "<span" not in render_inline("`def f(): pass` ```python x = 1```")


def test_many_blocks_stay_within_the_budgets():
    src = "\n\n".join(f"```python\nvalue_{i} = compute({i}, 'text') + other * {i}\n```" for i in range(700))
    started = time.perf_counter()
    out = render_markdown(src)
    assert time.perf_counter() - started < 3
    # Still the rendered post (not the escaped-source fallback): every block is there,
    # the first ones highlighted, the rest plain once the sanitiser's budget is spent.
    assert out.count('<pre><code class="language-python">') == 700
    assert out.startswith('<pre><code class="language-python"><span')
    assert "<span" not in out.rsplit("<pre>", 1)[1]


def test_a_long_block_renders_quickly():
    code = "\n".join(f"for i in range({n}):\n    total += i * {n}  # note" for n in range(600))
    started = time.perf_counter()
    out = render_markdown(f"```python\n{code}\n```")
    assert time.perf_counter() - started < 2
    assert out.startswith('<pre><code class="language-python">') and to_plain_text(out) == to_plain_text(
        render_markdown(f"```nosuchlanguage\n{code}\n```"))


def test_committed_stylesheet_is_the_generated_one():
    css = (ROOT / "static" / "css" / "code.css").read_text(encoding="utf-8")
    assert css == stylesheet(), "run: flask forum code-css --write"
    assert '[data-theme="dark"] pre > code .k {' in css and "prefers-color-scheme: dark" in css
    for cls in ("k", "s2", "c1", "nf"):
        assert f":root pre > code .{cls} {{" in css


def test_bleach_keeps_only_token_classes_on_spans():
    cleaner = new_cleaner(INLINE_TAGS | BLOCK_TAGS | {"span"})
    out = sanitise_html(cleaner, '<pre><code class="language-python"><span class="k">def</span> '
                                 '<span class="evil" style="color:red" onclick="x()">f</span>'
                                 '<span class="k s2">g</span></code></pre>')
    assert out == ('<pre><code class="language-python"><span class="k">def</span> '
                   "<span>f</span><span>g</span></code></pre>")
