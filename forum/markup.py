"""Markdown source -> safe HTML for posts and comments; HTML -> plain text.

The content pipeline of ARCHITECTURE.md ("Content pipeline"): python-markdown renders the
source, then bleach sanitises the *output* HTML against an allowlist and linkifies bare URLs.
Rendering happens once, at write time. Callers store ``body_html`` beside ``body`` together
with :data:`RENDER_VERSION`; a ``rerender`` command re-renders rows whose version is stale.

Policy (templates and CSS depend on it):

* No raw HTML is passed through. python-markdown's raw-HTML block preprocessor and inline
  pattern are removed, so ``<script>`` or ``<div>`` shows exactly as typed (escaped). A few
  attribute-less inline tags - ``<kbd>``, ``<sup>``, ``<sub>``, ``<del>``, and ``<br>`` in
  posts - are recognised as Markdown *syntax* and built by the parser. So every tag reaching
  bleach was made by python-markdown; bleach still sanitises everything (defence in depth),
  and html5lib never meets the unclosed-tag soup that makes it slow.
* Headings are demoted two levels (``#`` -> ``<h3>`` ... ``####``+ -> ``<h6>``): the page
  owns ``<h1>`` (title) and ``<h2>`` (sections), and the levels users type stay distinct.
* No ``style`` attribute anywhere (strict CSP): table alignment becomes
  ``class="align-left|align-center|align-right"`` on ``th``/``td``.
* Fenced code: ``<code class="language-xxx">`` with xxx reduced to ``[a-z0-9+#-]``.
* ``rel="nofollow ugc noopener"`` on links that leave the site (a scheme or ``//``);
  relative links (``/questions/12``, ``#answer-3``) stay as they are, without ``rel``.
* Links: http, https, mailto and relative. Images: absolute http(s) only (no ``data:``, no
  same-origin GET from an ``<img>``); an image whose ``src`` is refused shows its alt text.
* Bare URLs are linkified only when written with ``http://``, ``https://`` or ``www.``.
* ``~~strike~~`` (GFM) -> ``<del>``. No nl2br: a single newline is not a line break.
* A post whose output would take too long to sanitise renders as its escaped source in a
  ``<pre>`` (see "Pathological input"); no realistic post gets there.

Relies on python-markdown 3.11 internals (DelimiterProcessor, BacktickInlineProcessor,
LinkInlineProcessor.getText/getLink); tests/unit/test_markup.py pins the behaviour.
This module must not import Flask: services, the CLI and tests all use it.
"""

from __future__ import annotations

import html
import re
import threading
from functools import lru_cache, partial
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import Element

import bleach
from bleach.html5lib_shim import Filter, getTreeWalker
from bleach.linkifier import LinkifyFilter
from markdown import Markdown
from markdown.extensions import Extension
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.inlinepatterns import (
    AUTOLINK_RE,
    AUTOMAIL_RE,
    BACKTICK_RE,
    ESCAPE_RE,
    IMAGE_LINK_RE,
    IMAGE_REFERENCE_RE,
    LINE_BREAK_RE,
    LINK_RE,
    REFERENCE_RE,
    AutolinkInlineProcessor,
    AutomailInlineProcessor,
    BacktickInlineProcessor,
    DelimiterProcessor,
    EscapeInlineProcessor,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    InlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
    SubstituteTagInlineProcessor,
)
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

__all__ = ["RENDER_VERSION", "render_markdown", "render_inline", "to_plain_text", "excerpt"]

#: Bump whenever the allowlist, the extensions or the output shape change; it is stored beside
#: ``body_html`` so that ``flask rerender`` knows which rows are stale.
RENDER_VERSION: int = 1

INLINE_TAGS = frozenset({"a", "strong", "em", "del", "code", "kbd", "sup", "sub"})
BLOCK_TAGS = frozenset(
    {"p", "br", "hr", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "li", "img",
     "table", "thead", "tbody", "tr", "th", "td"}
)
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})

# C0/C1 controls (except tab and newline) carry no text and confuse parsers; STX/ETX are
# python-markdown's own placeholder markers. Lone surrogates cannot be encoded to UTF-8, so
# they would fail later at the database or in the response instead of here.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _clean_source(src: str) -> str:
    if not isinstance(src, str):
        raise TypeError(f"expected str, got {type(src).__name__}")
    src = src.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", src))


# ----------------------------------------------------------------------- pathological input
#
# Bodies are limited to 30,000 characters and every body must render well under a second on
# a slow 2-core machine. CPU time for 30,000 characters, stock python-markdown 3.11 + bleach
# 6.4 -> this module (tests/unit/test_markup.py holds the whole corpus):
#   "[" * N, "[ " * N, "[^" * N, "![" * N ........ > 20 s -> 0.08 s  bracket depth cap
#   "[](" * N, "[x](" * N, "![](" * N ........... 12-20 s -> 0.06 s  bounded link tail
#   "(" * N ....................................... 13 s -> 0.01 s  own bare-URL regex
#   "```" then runs of 9 backticks ................. 3 s -> 0.06 s  regex code spans
#   "# x", "---", "***", "x\n===", "> # x" lines  1-4 s -> 0.06 s  block pre-splitting
#   "```x\n" lines (unclosable fences) ............ 1.9 s -> 0.03 s  masked for the regex
#   "<http://a" * N, "<a" * N, ">" * N ......... 0.7-1.5 s -> 0.1 s  no raw-HTML parsing
#   "__**- ****" * N, "***a" * N .................. 1.6 s -> 0.07 s  open-run cap, budget
#   5,000-row table, "*a" * N, "<a@b.c>" * N ..... 1-3 s -> 0.04 s  walker fix, budgets
#   "1. " * N, "+ " * N, "*     " * N ....... RecursionError -> 0.03 s  line nesting cap

# A link text nests brackets; real text nests two or three deep. Past this depth the "["
# stays literal text, which bounds the scan of every "[" to the next few brackets.
_MAX_BRACKET_DEPTH = 8


def _bracketed_text_re(depth: int) -> re.Pattern[str]:
    """Text up to the "]" that closes an already opened "[", nesting at most ``depth`` deep.

    Possessive quantifiers: every character decides the branch, so the match is one linear
    pass in C and fails fast at the first bracket nested too deep.
    """
    level = r"[^\[\]]*+"
    for _ in range(depth - 1):
        level = rf"[^\[\]]*+(?:\[{level}\][^\[\]]*+)*+"
    return re.compile(rf"({level})\]")


_BRACKETED_TEXT_RE = _bracketed_text_re(_MAX_BRACKET_DEPTH)
# python-markdown walks a link's "(destination 'title')" one character at a time looking for
# its ")". Only this many characters, or up to the 16th ( ) ' " character, are looked at:
# real links, even long tracking URLs with a quoted title, stay far below both.
_MAX_LINK_TAIL = 2048
_LINK_TAIL_SPECIALS = re.compile(r"""(?:[^()'"]*+[()'"]){16}""")  # possessive: no backtracking
# Unclosed emphasis runs python-markdown keeps on its stack (see _Emphasis).
_MAX_OPEN_DELIMITERS = 16
# Quote and list markers at the start of one line nest ("> > > x", "1. 1. 1. x",
# "*     *     x"); python-markdown recurses per level, and a 30,000-character line of them
# raised RecursionError. The marker past this depth is backslash-escaped and shows as text.
_MAX_LINE_NESTING = 16
_NESTED_MARKERS_RE = re.compile(
    r"(?:[ ]{0,3}+(?:>[ ]?+|[*+-][ ]++|\d{1,9}+\.[ ]++)){%d}[ ]{0,3}+(?=>|[*+-][ ]|\d{1,9}\.[ ])"
    % _MAX_LINE_NESTING
)
_HR_RE = re.compile(
    r"[ ]{0,3}+(?:(?:-[ ]{0,2}+){3,}+|(?:_[ ]{0,2}+){3,}+|(?:\*[ ]{0,2}+){3,}+)[ ]*+$"
)
# Lines after which python-markdown splits a block (ATX heading, setext underline, rule),
# after an optional blockquote prefix; see _TameBlocks.
_QUOTE_PREFIX_RE = re.compile(r"(?:[ ]{0,3}>[ ]?)*")
_SETEXT_OR_ATX_RE = re.compile(r"#|[=-]+[ ]*$")
_MAX_SPLITS_PER_BLOCK = 32
_FENCE_RE = re.compile(r"(`{3,}|~{3,})[ ]*(.*)")
_FENCE_MASKS = {"`": "\x0e", "~": "\x0f"}  # stripped from input; not markdown's STX/ETX
_TICKS_RE = re.compile(r"`+")
# Work budget for one conversion, in elements built plus emphasis runs examined. python-
# markdown spends 30-100 µs on each and bleach another ~20 µs per tag, so 30,000 characters
# asking for 15,000 elements ("*a*" * N, a 5,000-row table) took 1.5-2 s. A dense 30,000-
# character tutorial uses ~2,200; a 580-row 5-column table just fits. Beyond this budget,
# or beyond _MAX_SANITISER_WORK tags plus character references in python-markdown's output,
# the post renders as its escaped source; the worst case that still renders is ~0.3 s.
_MAX_MARKDOWN_WORK = 3_500
_MAX_SANITISER_WORK = 7_000


class _TooComplex(Exception):
    """Raised inside python-markdown when a conversion runs out of work budget."""


class _Budget:
    def __init__(self) -> None:
        self.left = _MAX_MARKDOWN_WORK

    def spend(self, units: int = 1) -> None:
        self.left -= units
        if self.left < 0:
            raise _TooComplex


class _Counted:
    """Mixin: every construct the processor builds is charged to the conversion's budget."""

    def __init__(self, *args: Any, budget: _Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    def handleMatch(self, m: re.Match[str], data: str) -> Any:  # noqa: N802
        result = super().handleMatch(m, data)  # type: ignore[misc]
        if result[0] is not None:
            self.budget.spend()
        return result


class _BoundedText:
    """Mixin: getText() that gives up past _MAX_BRACKET_DEPTH instead of scanning on.

    Same result as python-markdown's character loop for any nesting up to that depth,
    found by one regex match instead of a Python loop over every character.
    """

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802
        match = _BRACKETED_TEXT_RE.match(data, index)
        return (match.group(1), match.end(), True) if match else ("", index, False)


class _BoundedLink:
    """Mixin: getLink() runs python-markdown's own algorithm on a bounded window.

    Unchanged result for any link whose tail fits the window; without it every ``[x](``
    whose ``)`` never comes walks to the end of the paragraph.
    """

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802
        if not data.startswith("(", index):  # "[text]" alone: not an inline link
            return "", None, index, False
        end = min(len(data), index + _MAX_LINK_TAIL)
        specials = _LINK_TAIL_SPECIALS.match(data, index, end)
        end = specials.end() if specials else end
        if data.find(")", index, end) == -1:  # cannot close inside the window
            return "", None, index, False
        href, title, stop, handled = super().getLink(data[index:end], 0)  # type: ignore[misc]
        return href, title, stop + index, handled


class _Link(_Counted, _BoundedLink, _BoundedText, LinkInlineProcessor):
    pass


class _Image(_Counted, _BoundedLink, _BoundedText, ImageInlineProcessor):
    pass


class _Reference(_Counted, _BoundedText, ReferenceInlineProcessor):
    pass


class _ShortReference(_Counted, _BoundedText, ShortReferenceInlineProcessor):
    pass


class _ImageReference(_Counted, _BoundedText, ImageReferenceInlineProcessor):
    pass


class _ShortImageReference(_Counted, _BoundedText, ShortImageReferenceInlineProcessor):
    pass


class _Autolink(_Counted, AutolinkInlineProcessor):
    pass


class _Escape(_Counted, EscapeInlineProcessor):
    pass


class _HardBreak(_Counted, SubstituteTagInlineProcessor):
    pass


class _Emphasis(DelimiterProcessor):
    """python-markdown's ``*``/``_``/``~~`` pairing, bounded.

    Unclosed runs pile up on a stack (a deque) that is walked on every ambiguous run:
    "__**- ****" repeated took 1.4 s. Past _MAX_OPEN_DELIMITERS open runs the oldest is
    dropped and stays literal text (real paragraphs leave a few open: "*.txt", "*nix"), and
    every run examined is charged to the budget.
    """

    def __init__(self, *args: Any, budget: _Budget) -> None:
        super().__init__(*args)
        self.budget = budget

    def search(self, data: str, start: int) -> re.Match[str] | None:
        for delimiter in self.delimiters.values():
            while len(delimiter.stack) > _MAX_OPEN_DELIMITERS:
                delimiter.stack.popleft()
        match = super().search(data, start)
        if match is not None:
            self.budget.spend()
        return match


@lru_cache(maxsize=256)
def _exact_ticks(count: int) -> re.Pattern[str]:
    return re.compile(r"(?<!`)`{%d}(?!`)" % count)


class _Backtick(_Counted, BacktickInlineProcessor):
    """Code spans found with C-speed regex searches instead of a per-character loop.

    For a backtick run without a closing run of the same length python-markdown walks to
    the end of the paragraph, then skips as many characters again as the run was long -
    into the next run, whose tail fails the same way: "```" then runs of 9 took 3 s. Same
    rules here (first later run of the same length closes, else the longest shorter run),
    but a failed run is skipped exactly: only runs whose length never recurs can fail, and
    30,000 characters hold at most ~245 distinct lengths.
    """

    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:
        opening = _TICKS_RE.match(text, start)
        ticks = len(opening.group()) if opening else 0
        start += ticks
        closing = _exact_ticks(ticks).search(text, start) if ticks else None
        if closing:
            return start, closing.start()
        longest = max(map(len, _TICKS_RE.findall(text, start)), default=0)
        if 0 < longest < ticks:
            end = _exact_ticks(longest).search(text, start).end()  # type: ignore[union-attr]
            return start - (ticks - longest), end - longest
        return start, None


class _Automail(_Counted, AutomailInlineProcessor):
    """``<me@example.com>`` as a plain mailto link.

    python-markdown writes each character as an entity (``&#109;``) to "hide" the address:
    it fools no harvester, makes the HTML five times longer, and bleach pays per entity.
    """

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # noqa: N802
        self.budget.spend()
        address = self.unescape(m.group(1)).removeprefix("mailto:")
        el = Element("a", {"href": f"mailto:{address}"})
        el.text = AtomicString(address)
        return el, m.start(0), m.end(0)


class _SimpleTag(_Counted, InlineProcessor):
    """``<kbd>..</kbd>``, ``<sup>``, ``<sub>``, ``<del>`` (no attributes) as Markdown syntax.

    Content is inline Markdown, at most 300 characters so that an unclosed tag does not
    scan the whole paragraph. ``<br>`` matches with an empty group 1 (posts only).
    """

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # noqa: N802
        self.budget.spend()
        if m.lastindex is None:
            return Element("br"), m.start(0), m.end(0)
        el = Element(m.group(1).lower())
        el.text = m.group(2)
        return el, m.start(0), m.end(0)


class _FencedBlocks(FencedBlockPreprocessor):
    """Fenced code, with unclosable opening fences hidden from the fence regex.

    The regex tries every line that starts with a fence and, when no closing fence follows,
    scans to the end of the document: ``"```x\\n" * N`` is quadratic. A line like
    ```` ```lang ```` with no bare fence of the same string after it can never open a block
    (and, having an info string, never closes one): it is masked with a control character
    for the regex and restored afterwards, so the output is unchanged.
    """

    def run(self, lines: list[str]) -> list[str]:
        closers: set[str] = set()
        masked = False
        for i in range(len(lines) - 1, -1, -1):
            fence = _FENCE_RE.match(lines[i])
            if fence is None:
                continue
            if not fence.group(2):
                closers.add(fence.group(1))
            elif fence.group(1) not in closers:
                lines[i] = _FENCE_MASKS[lines[i][0]] + lines[i][1:]
                masked = True
        lines = super().run(lines)
        if masked:  # restore, also inside code blocks that swallowed a masked line
            stash = self.md.htmlStash.rawHtmlBlocks
            stash[:] = [_unmask(block) for block in stash]
            lines = [_unmask(line) for line in lines]
        return lines


def _unmask(text: Any) -> Any:
    return text.replace("\x0e", "`").replace("\x0f", "~") if isinstance(text, str) else text


def _cap_line_nesting(line: str) -> str:
    deep = _NESTED_MARKERS_RE.match(line)
    if deep is None or _HR_RE.match(line):  # "* * * * ..." is a rule, not nesting
        return line
    at = deep.end()
    if line[at].isdigit():  # escape "1." as "1\.": a backslash before a digit would show
        at = line.index(".", at)
    return f"{line[:at]}\\{line[at:]}"


class _TameBlocks(Preprocessor):
    """Caps one-line nesting and pre-splits blocks made of many headings or rules.

    python-markdown peels one heading/rule off a block at a time and re-scans the rest of
    the block with every block processor's regex: a block of N such lines costs N times
    its length. In blocks with more than _MAX_SPLITS_PER_BLOCK of them, a blank line (in a
    quote: the bare ``>`` prefix) is inserted after each, where python-markdown would split
    anyway. Runs after fenced code is stashed, so code is never touched.
    """

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        block: list[str] = []
        for line in [*(_cap_line_nesting(line) for line in lines), ""]:
            if line.strip():
                block.append(line)
                continue
            out.extend(self._split(block) if len(block) > _MAX_SPLITS_PER_BLOCK else block)
            out.append(line)
            block = []
        return out[:-1]

    @staticmethod
    def _split(block: list[str]) -> list[str]:
        prefixes = [_QUOTE_PREFIX_RE.match(line).group() for line in block]  # type: ignore
        splits = [
            bool(_SETEXT_OR_ATX_RE.match(line, len(p)) or _HR_RE.match(line, len(p)))
            for line, p in zip(block, prefixes)
        ]
        if sum(splits) <= _MAX_SPLITS_PER_BLOCK:
            return block
        out: list[str] = []
        for line, prefix, split in zip(block, prefixes, splits):
            out.append(line)
            if split:
                out.append(prefix.rstrip())
        return out


class _ChargeBlocks(Treeprocessor):
    """Charges the block elements to the budget before inline parsing multiplies them."""

    def __init__(self, md: Markdown, budget: _Budget) -> None:
        super().__init__(md)
        self.budget = budget

    def run(self, root: Element) -> None:
        self.budget.spend(sum(1 for _ in root.iter()))


class _ShapeTree(Treeprocessor):
    """Demotes headings; turns table alignment styles into classes (no inline CSS)."""

    _ALIGN_RE = re.compile(r"text-align:\s*(left|center|right)")

    def run(self, root: Element) -> None:
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                el.tag = f"h{min(int(el.tag[1]) + 2, 6)}"
            elif el.tag in ("th", "td"):
                align = self._ALIGN_RE.search(el.attrib.pop("style", ""))
                if align:
                    el.set("class", f"align-{align.group(1)}")


class _ForumMarkdown(Extension):
    """Wires the above into python-markdown; ``inline=True`` builds the comment dialect."""

    def __init__(self, inline: bool) -> None:
        super().__init__()
        self.inline = inline
        self.budget = _Budget()

    def reset(self) -> None:
        self.budget.left = _MAX_MARKDOWN_WORK

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        md.registerExtension(self)  # so that md.reset() resets the budget
        budget = self.budget
        inline = md.inlinePatterns
        md.preprocessors.deregister("html_block")
        inline.deregister("html")
        # Same names and priorities as python-markdown's own processors they replace.
        inline.register(_Backtick(BACKTICK_RE, budget=budget), "backtick", 190)
        inline.register(_Escape(ESCAPE_RE, md, budget=budget), "escape", 180)
        inline.register(_Reference(REFERENCE_RE, md, budget=budget), "reference", 170)
        inline.register(_Link(LINK_RE, md, budget=budget), "link", 160)
        inline.register(_ShortReference(REFERENCE_RE, md, budget=budget), "short_reference", 130)
        inline.register(_Autolink(AUTOLINK_RE, md, budget=budget), "autolink", 120)
        inline.register(_Automail(AUTOMAIL_RE, md, budget=budget), "automail", 110)
        tags = r"(?i)<(kbd|sup|sub|del)>(.{1,300}?)</\1>" + ("" if self.inline else r"|<br\s*/?>")
        inline.register(_SimpleTag(tags, md, budget=budget), "simple_tags", 85)
        inline.register(_Emphasis("*", "strong,em", md, budget=budget), "em_strong", 60)
        md.delimiters.add("_", "strong,em", smart=True)  # as python-markdown does
        md.delimiters.add("~", "del", double=True)  # GFM ~~strikethrough~~
        md.treeprocessors.register(_ChargeBlocks(md, budget), "forum_budget", 30)
        if self.inline:  # comments: one paragraph of inline Markdown, no images
            for name in ("image_link", "image_reference", "short_image_ref", "linebreak"):
                inline.deregister(name)
            for name in ("empty", "indent", "code", "hashheader", "setextheader", "hr",
                         "olist", "ulist", "quote", "reference"):
                md.parser.blockprocessors.deregister(name, strict=False)
            return
        inline.register(_Image(IMAGE_LINK_RE, md, budget=budget), "image_link", 150)
        inline.register(
            _ImageReference(IMAGE_REFERENCE_RE, md, budget=budget), "image_reference", 140
        )
        inline.register(
            _ShortImageReference(IMAGE_REFERENCE_RE, md, budget=budget), "short_image_ref", 125
        )
        inline.register(_HardBreak(LINE_BREAK_RE, "br", budget=budget), "linebreak", 100)
        md.preprocessors.register(
            _FencedBlocks(md, {"lang_prefix": "language-"}), "fenced_code_block", 25
        )
        md.preprocessors.register(_TameBlocks(md), "forum_tame_blocks", 15)
        md.treeprocessors.register(_ShapeTree(md), "forum_shape", 1)


# ----------------------------------------------------------------------------- sanitising

_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_URL_NOISE_RE = re.compile(r"[\s\x00-\x20\x7f-\x9f]+|[^\x00-\x7f]")
_LANGUAGE_NOISE_RE = re.compile(r"[^a-z0-9+#\-]")
# Bare URLs worth linking: written with a scheme or "www.". bleach's default pattern also
# links "config.py" (.py is a TLD) and backtracks catastrophically on "((((...": 30,000 "("
# took 13 s. This one is linear, keeps balanced parentheses ("wiki/Foo_(bar)") but not the
# ")" of a surrounding remark, and does not end on trailing punctuation.
_URL_CHAR = r"""[^\s()<>"`{}|\\^]"""
_BARE_URL_RE = re.compile(
    rf"""\b(?:https?://|www\.)(?:{_URL_CHAR}|\({_URL_CHAR}*\))*"""
    rf"""(?:[^\s()<>"`{{}}|\\^.,;:!?'*_]|\({_URL_CHAR}*\))""",
    re.IGNORECASE,
)


def _normalise_url(value: str) -> str:
    """The URL as a browser would read its scheme, made harder to sneak anything past.

    Entity-decodes until stable (``&amp;#106;avascript:`` counts as ``javascript:``), drops
    whitespace, controls and non-ASCII (browsers skip some of them inside a scheme), reads
    ``\\`` as ``/`` (browsers do) and lowercases.
    """
    for _ in range(5):
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    return _URL_NOISE_RE.sub("", value).replace("\\", "/").lower()


def _scheme(value: str) -> str | None:
    match = _SCHEME_RE.match(_normalise_url(value))
    return match.group(1) if match else None


def _is_safe_href(value: str) -> bool:
    scheme = _scheme(value)
    return scheme is None or scheme in PROTOCOLS


def _is_external(href: str) -> bool:
    return _scheme(href) is not None or _normalise_url(href).startswith("//")


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    """bleach attribute policy: which attribute may stay on which allowed tag."""
    if tag == "a":
        return name == "title" or (name == "href" and _is_safe_href(value))
    if tag == "img":
        return name in ("alt", "title") or (name == "src" and _scheme(value) in ("http", "https"))
    if tag == "code":
        return name == "class"  # reduced to a language class by _TidyFilter
    if tag in ("th", "td"):
        return name == "class" and value in _ALIGN_CLASSES
    if tag == "ol":
        return name == "start" and value.isdigit() and len(value) <= 9
    return False


def _language_class(value: str) -> str | None:
    for token in html.unescape(value).lower().split():
        if token.startswith("language-"):
            name = _LANGUAGE_NOISE_RE.sub("", token[len("language-") :])[:40]
            return f"language-{name}" if name else None
    return None


class _TidyFilter(Filter):
    """Post-sanitiser touch-ups: code language class; refused images become alt text."""

    def __iter__(self) -> Any:
        for token in super().__iter__():
            kind, name, attrs = token["type"], token.get("name"), token.get("data") or {}
            if kind == "StartTag" and name == "code" and attrs:
                language = _language_class(attrs.pop((None, "class"), ""))
                if language:
                    attrs[(None, "class")] = language
            elif kind == "EmptyTag" and name == "img" and (None, "src") not in attrs:
                if attrs.get((None, "alt")):
                    yield {"type": "Characters", "data": attrs[(None, "alt")]}
                continue
            yield token


def _link_callback(attrs: dict[Any, str], new: bool) -> dict[Any, str] | None:
    """bleach linkify callback: decides which links survive and sets ``rel``.

    Returning None turns the link back into its text; used for links whose href the
    sanitiser refused, so that no dead ``<a>`` is left behind.
    """
    href = attrs.get((None, "href"))
    if href is None or not _is_safe_href(href):
        return None
    if _is_external(href):
        attrs[(None, "rel")] = LINK_REL
    else:
        attrs.pop((None, "rel"), None)
    return attrs


class _EtreeWalker(getTreeWalker("etree")):  # type: ignore[misc]
    """html5lib's etree walker with an O(1) step back up to the parent.

    The vendored walker finds a parent's position with ``list(grandparent).index(parent)``
    (after an ``assert ... count(parent) == 1``) every time it leaves an element, so 5,000
    table rows or 7,500 top-level headings cost rows x rows: 0.8 s of a 1.5 s render.
    Here positions are computed once per grandparent.
    """

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._positions: dict[int, dict[int, int]] = {}

    def getParentNode(self, node: Any) -> Any:  # noqa: N802
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent = parents.pop()
        if not parents:
            return parent
        grandparent = parents[-1]
        positions = self._positions.get(id(grandparent))
        if positions is None:
            positions = {id(child): i for i, child in enumerate(grandparent)}
            self._positions[id(grandparent)] = positions
        return parent, positions[id(parent)], parents, None


def _new_cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    linkify = partial(
        LinkifyFilter,
        callbacks=[_link_callback],
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=_BARE_URL_RE,
    )
    # strip=False: a tag outside the allowlist would show as escaped text instead of
    # vanishing with what the user typed. No "style" allowed, so no css_sanitizer needed.
    cleaner = bleach.Cleaner(
        tags=tags,
        attributes=_allow_attribute,
        protocols=PROTOCOLS,
        strip=False,
        strip_comments=True,
        filters=[_TidyFilter, linkify],
    )
    cleaner.walker = _EtreeWalker
    return cleaner


# Markdown and Cleaner objects hold parse state, so each thread builds its own on first use
# (which also keeps importing this module cheap).
_local = threading.local()


def _pipeline(inline: bool) -> tuple[Markdown, bleach.Cleaner]:
    key = "inline" if inline else "block"
    pipeline = getattr(_local, key, None)
    if pipeline is None:
        extensions: list[Any] = [_ForumMarkdown(inline=inline)]
        if not inline:
            extensions = ["tables", "sane_lists", *extensions]
        md = Markdown(extensions=extensions, output_format="html")
        pipeline = (md, _new_cleaner(INLINE_TAGS if inline else INLINE_TAGS | BLOCK_TAGS))
        setattr(_local, key, pipeline)
    pipeline[0].reset()
    return pipeline


def _convert(md: Markdown, src: str, inline: bool) -> str | None:
    """python-markdown's HTML, or None when the source is too costly to render.

    _TooComplex is the work budget running out. RecursionError is the net under the
    nesting caps: python-markdown recurses per level, and a post must never be a 500.
    """
    try:
        return md.convert(src)
    except (_TooComplex, RecursionError):
        # Interrupted mid-parse, python-markdown keeps stale state (its block parser's
        # nesting stack is not reset by md.reset()): this thread builds a fresh one.
        _local.__dict__.pop("inline" if inline else "block", None)
        return None


def _sanitise(cleaner: bleach.Cleaner, body: str | None) -> str | None:
    """bleach-clean python-markdown's output, or None when that would take too long.

    Callers replace None with html.escape(source): plain text is safe by construction
    and needs no sanitiser (whose cost is exactly the problem then).
    """
    if body is None:
        return None
    # ">" needs no escaping in text or quoted attributes, but python-markdown writes "&gt;"
    # and bleach pays an entity lookup for each. bleach escapes it again on output.
    body = body.replace("&gt;", ">")
    if body.count("<") + body.count("&") > _MAX_SANITISER_WORK:
        return None
    return cleaner.clean(body).strip()


# ----------------------------------------------------------------------------- public API


def render_markdown(src: str) -> str:
    """Render a post body (question, answer, article, bio) to sanitised HTML.

    python-markdown (fenced code, tables, sane lists; no nl2br, as on StackOverflow) ->
    bleach allowlist -> linkify, ``rel="nofollow ugc noopener"`` on external links.
    Control characters are dropped and lone surrogates replaced by U+FFFD first. Never
    fails on a ``str``: a source too costly to render comes back escaped in a ``<pre>``.

    Raises:
        TypeError: ``src`` is not a ``str`` (bytes must be decoded by the caller, which
            knows the encoding).
    """
    src = _clean_source(src)
    if not src.strip():
        return ""
    md, cleaner = _pipeline(inline=False)
    body = _sanitise(cleaner, _convert(md, src, inline=False))
    return f"<pre>{html.escape(src, quote=False)}</pre>" if body is None else body


def render_inline(src: str) -> str:
    """Render a comment: inline Markdown only, as one line of HTML without a ``<p>``.

    Emphasis, strong, ``~~del~~``, code spans, links and autolinks; no headings, lists,
    images, tables, code blocks or quotes (their syntax stays literal text). Newlines and
    runs of whitespace collapse to one space.

    Raises:
        TypeError: ``src`` is not a ``str``.
    """
    src = " ".join(_clean_source(src).split())
    if not src:
        return ""
    md, cleaner = _pipeline(inline=True)
    body = _convert(md, src, inline=True)
    # Only the paragraph processor is left and the source is one line, so this is exactly
    # one <p>...</p>: unwrap it before sanitising (p is not allowed in comments).
    if body is not None and body.startswith("<p>") and body.endswith("</p>"):
        body = body[3:-4]
    body = _sanitise(cleaner, body)
    return html.escape(src, quote=False) if body is None else body.replace("\n", " ")


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
    return " ".join(_clean_source("".join(parser.parts)).split())


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
