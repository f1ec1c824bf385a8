"""Safe HTML snippets: the user's text escaped, matches wrapped in ``<mark>``.

Hits are re-highlighted from the stored title and body prefix with the same analyzer
that indexed them, so "configuring" in a post lights up for the query "configure".
Only `html.escape`d text and literal ``<mark>``/``</mark>`` tags ever reach the output;
nothing from a post or a query can inject markup.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from search.analysis import word_spans

__all__ = ["highlight_title", "snippet"]

SNIPPET_CHARS = 220
_LEAD_CHARS = 60  # context shown before the first match
_ELLIPSIS = "\u2026"


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append("<mark>")
        out.append(escape(text[start:end]))
        out.append("</mark>")
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def highlight_title(title: str, terms: Collection[str], *, max_chars: int = 300) -> str:
    """Return the escaped title with every token whose term is in `terms` marked."""
    title = title[:max_chars]
    if not terms:
        return escape(title)
    spans = [(s, e) for s, e, term in word_spans(title) if term in terms]
    return _marked(title, spans)


def _cut_end(text: str, limit: int) -> int:
    """Return an index <= limit that does not split a word (when one is near)."""
    if limit >= len(text):
        return len(text)
    space = text.rfind(" ", 0, limit)
    return space if space > limit // 2 else limit


def snippet(text: str, terms: Collection[str], *, max_chars: int = SNIPPET_CHARS) -> str:
    """Return an escaped excerpt of about `max_chars` characters around the first match.

    Without a match (the hit matched on answers or tags only) the excerpt is the start
    of the text.  "\u2026" marks cut ends.  Scanning stops at the end of the window, so
    a long body costs only the tokens up to its first match.
    """
    text = " ".join(text.split())  # collapse newlines and runs of spaces
    spans: list[tuple[int, int]] = []
    window_start = 0
    window_end = _cut_end(text, max_chars)
    if terms:
        for start, end, term in word_spans(text):
            if spans and end > window_end:
                break
            if term in terms:
                if not spans:
                    # First match: centre the window so some context precedes it.
                    window_start = max(0, start - _LEAD_CHARS)
                    if window_start:
                        space = text.find(" ", window_start, start)
                        window_start = space + 1 if space != -1 else start
                    window_end = window_start + _cut_end(text[window_start:], max_chars)
                    if end > window_end:  # one enormous token: show it, within reason
                        window_end = min(end, window_start + 2 * max_chars)
                spans.append((start, end))
    body = text[window_start:window_end]
    shifted = [(s - window_start, e - window_start) for s, e in spans]
    html = _marked(body, shifted)
    if window_start > 0:
        html = _ELLIPSIS + html
    if window_end < len(text):
        html = html + _ELLIPSIS
    return html
