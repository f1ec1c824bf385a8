"""Source clean-up shared by the renderers, and HTML -> plain text (to_plain_text, excerpt).

Standard library only: search indexing, snippets and meta tags use this without touching
python-markdown or bleach.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# C0/C1 controls (except tab and newline) carry no text and confuse parsers; STX/ETX are
# python-markdown's own placeholder markers. Lone surrogates cannot be encoded to UTF-8, so
# they would fail later at the database or in the response instead of here.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean_source(src: str) -> str:
    if not isinstance(src, str):
        raise TypeError(f"expected str, got {type(src).__name__}")
    src = src.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", src))


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript", "textarea", "title"})
    _BREAKS = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
         "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
         "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td",
         "tfoot", "th", "thead", "tr", "ul"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def to_plain_text(html_text: str) -> str:
    """Text content of (sanitised) HTML, for search indexing, snippets and meta tags.

    Entities are decoded, block boundaries become spaces (``<p>a</p><p>b</p>`` -> ``a b``),
    whitespace collapses to single spaces, script/style content is dropped. The result is
    plain text, *not* HTML: escape it when embedding it in a page (Jinja does).

    Raises:
        TypeError: ``html_text`` is not a ``str``.
    """
    if not isinstance(html_text, str):
        raise TypeError(f"expected str, got {type(html_text).__name__}")
    parser = _TextExtractor()
    parser.feed(html_text)
    parser.close()
    return " ".join(clean_source("".join(parser.parts)).split())


def excerpt(html_text: str, length: int = 200) -> str:
    """Plain-text excerpt of at most ``length`` characters, the ellipsis included.

    Cut at the last word boundary that fits and end with "…"; a single word longer than
    half the budget (a long URL) is cut mid-word rather than leaving a stub.

    Raises:
        TypeError: ``html_text`` is not a ``str``.
        ValueError: ``length`` is less than 1 (no room even for the ellipsis).
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    text = to_plain_text(html_text)
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if not text[length - 1].isspace():
        boundary = cut.rfind(" ")
        if boundary > (length - 1) // 2:
            cut = cut[:boundary]
    return cut.rstrip(" ,;:-–—") + "…"
