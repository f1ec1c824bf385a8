"""Markdown source -> safe HTML for posts and comments; HTML -> plain text.

The content pipeline of ARCHITECTURE.md ("Content pipeline"): python-markdown renders the
source, then bleach sanitises the *output* HTML against an allowlist and linkifies bare URLs.
Rendering happens once, at write time. Callers store ``body_html`` beside ``body`` together
with :data:`RENDER_VERSION`; a ``rerender`` command re-renders rows whose version is stale.

Policy choices (documented here because templates and CSS depend on them):

* Raw HTML is never passed through. python-markdown's raw-HTML block preprocessor and inline
  pattern are removed, so ``<script>`` or ``<div>`` is shown exactly as typed (escaped).
  A few attribute-less inline tags - ``<kbd>``, ``<sup>``, ``<sub>``, ``<del>`` and ``<br>``
  (posts only) - are recognised as Markdown *syntax* and built by the parser, so every tag in
  the output was made by python-markdown. bleach still sanitises everything (defence in
  depth), and because python-markdown's output is always well-formed, the HTML parser inside
  bleach never meets the unclosed-tag soup that makes html5lib slow.
* Headings are demoted by two levels (``#`` -> ``<h3>``, ``##`` -> ``<h4>``, ``###`` and
  deeper -> ``<h5>``/``<h6>``): the page owns ``<h1>`` (title) and ``<h2>`` (sections), and the
  three levels users actually type stay distinct.
* No ``style`` attribute at all (strict CSP): table alignment becomes
  ``class="align-left|align-center|align-right"`` on ``th``/``td``.
* ``rel="nofollow ugc noopener"`` goes on links that leave the site (scheme or ``//``);
  relative links (``/questions/12``, ``#answer-3``) are kept as they are, without ``rel``.
* Link protocols: http, https, mailto (and relative). Images: absolute http(s) only, so no
  ``data:`` and no same-origin GETs triggered by an ``<img>``.
* Bare URLs are linkified only when they start with ``http://``, ``https://`` or ``www.``:
  bleach would otherwise turn ``config.py`` (.py is a TLD) into a link.

Performance: python-markdown has super-linear paths. The body limit is 30,000 characters
(comments 600) and every input up to that size must render well under a second, so the
parser is tamed where it goes quadratic (see the "pathological input" section below).

This module must not import Flask: services, the CLI and tests all use it.
"""

from __future__ import annotations

import html
import re
import threading
from functools import partial
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import Element

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from markdown import Markdown
from markdown.extensions import Extension
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.inlinepatterns import (
    IMAGE_LINK_RE,
    IMAGE_REFERENCE_RE,
    LINK_RE,
    REFERENCE_RE,
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    InlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
)
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

__all__ = ["RENDER_VERSION", "render_markdown", "render_inline", "to_plain_text", "excerpt"]

#: Bump whenever the allowlist, the extensions or the output shape change; it is stored beside
#: ``body_html`` so that ``flask rerender`` knows which rows are stale.
RENDER_VERSION: int = 1

BLOCK_TAGS = frozenset(
    {"p", "br", "hr", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "li", "img",
     "table", "thead", "tbody", "tr", "th", "td"}
)
INLINE_TAGS = frozenset({"a", "strong", "em", "del", "code", "kbd", "sup", "sub"})
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})

# --------------------------------------------------------------------------- input hygiene

# C0/C1 controls (except tab and newline) carry no text, confuse parsers, and STX/ETX are
# python-markdown's own placeholder markers. Lone surrogates cannot be encoded to UTF-8, so
# they would blow up at the database or response layer instead of here.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _clean_source(src: str) -> str:
    if not isinstance(src, str):
        raise TypeError(f"expected str, got {type(src).__name__}")
    src = src.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", src))


# --------------------------------------------------------------------------- pathological input
#
# Measured with python-markdown 3.11 on a 30,000-character input (slow 2-core machine), before
# -> after taming (full pipeline after): see tests/unit/test_markup.py for the corpus.
#   "[" * N, "![" * N, "[ " * N ......... > 20 s  (each "[" scans to the end for its "]")
#   "[](" * N, "[x](" * N, "![](" * N ... 10-18 s (each "(" scans to the end for its ")")
#   "# x\n" / "---\n" / "x\n===\n" lines .. 1.5-3.6 s (each heading/rule re-scans its block)
#   "> # x\n" lines ...................... 0.8 s  (same, inside a quote)
#   "```x\n" lines ....................... 1.7 s  (each unclosable fence scans to the end)
#   "<http://a" * N, "<a" * N ............ 0.8-1.3 s (stdlib HTMLParser in raw-HTML blocks)
#   ">" * N .............................. 0.3 s  (~300 nested blockquotes)

# A link text nests brackets; real text nests two or three deep. Past this depth the "["
# stays literal text, which bounds the scan of every "[" to the next few brackets.
_MAX_BRACKET_DEPTH = 8
_BRACKET_RE = re.compile(r"[\[\]]")
# A link destination plus title is scanned character by character for its closing ")".
# Stop after this many characters or after this many ( ) ' " characters, whichever comes
# first: real links (even long tracking URLs with a quoted title) stay far below both.
_MAX_LINK_TAIL = 2048
_LINK_TAIL_SPECIALS = re.compile(r"""(?:[^()'"]*[()'"]){16}""")
# Blockquote nesting beyond this is shown as literal ">" inside the deepest quote.
_MAX_QUOTE_DEPTH = 16
_DEEP_QUOTE_RE = re.compile(r"^((?:[ ]{0,3}>[ ]?){%d}[ ]{0,3})>" % _MAX_QUOTE_DEPTH)
# Lines that make python-markdown split a paragraph block in two (ATX heading, setext
# underline, horizontal rule), after an optional blockquote prefix.
_QUOTE_PREFIX_RE = re.compile(r"(?:[ ]{0,3}>[ ]?)*")
_SPLITTER_RE = re.compile(
    r"#|[=-]+[ ]*$|[ ]{0,3}(?:(?:-[ ]{0,2}){3,}|(?:_[ ]{0,2}){3,}|(?:\*[ ]{0,2}){3,})[ ]*$"
)
# Blocks with at most this many splitting lines are parsed exactly as python-markdown would.
_MAX_SPLITS_PER_BLOCK = 32
_FENCE_RE = re.compile(r"(`{3,}|~{3,})([ ]*)(.*)")
_FENCE_SENTINEL = {"`": "\x01", "~": "\x02"}  # never in input: _clean_source strips C0


class _BoundedTextMixin:
    """getText() that gives up beyond _MAX_BRACKET_DEPTH instead of scanning to the end.

    Same result as python-markdown's char-by-char loop for any nesting up to that depth;
    jumping from bracket to bracket with a regex also keeps long link texts cheap.
    """

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802
        depth = 1
        for match in _BRACKET_RE.finditer(data, index):
            if match.group() == "[":
                depth += 1
                if depth > _MAX_BRACKET_DEPTH:
                    break
            else:
                depth -= 1
                if depth == 0:
                    return data[index : match.start()], match.end(), True
        return "", index, False


class _BoundedLinkMixin:
    """getLink() that only looks at a bounded window after the ``(``.

    python-markdown's getLink walks to the end of the paragraph when the ``)`` never comes;
    one walk per ``[x](`` is quadratic. Inside the window the original algorithm runs
    unchanged, so any link shorter than the window renders exactly as before.
    """

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802
        end = min(len(data), index + _MAX_LINK_TAIL)
        many_specials = _LINK_TAIL_SPECIALS.match(data, index, end)
        if many_specials:
            end = many_specials.end()
        if data.find(")", index, end) == -1:  # cannot close: skip the walk entirely
            return "", None, index, False
        href, title, stop, handled = super().getLink(data[index:end], 0)  # type: ignore[misc]
        return href, title, stop + index, handled


class _Link(_BoundedLinkMixin, _BoundedTextMixin, LinkInlineProcessor):
    pass


class _Image(_BoundedLinkMixin, _BoundedTextMixin, ImageInlineProcessor):
    pass


class _Reference(_BoundedTextMixin, ReferenceInlineProcessor):
    pass


class _ShortReference(_BoundedTextMixin, ShortReferenceInlineProcessor):
    pass


class _ImageReference(_BoundedTextMixin, ImageReferenceInlineProcessor):
    pass


class _ShortImageReference(_BoundedTextMixin, ShortImageReferenceInlineProcessor):
    pass


class _SimpleTag(InlineProcessor):
    """``<kbd>..</kbd>`` and friends, without attributes, as Markdown syntax.

    The content is limited to 300 characters so an unclosed ``<kbd>`` does not scan the
    whole paragraph; the content is still parsed as inline Markdown.
    """

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # noqa: N802
        el = Element(m.group(1).lower())
        el.text = m.group(2)
        return el, m.start(0), m.end(0)


class _LineBreakTag(InlineProcessor):
    """``<br>`` (handy inside table cells, where Markdown has no line break)."""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Element, int, int]:  # noqa: N802
        return Element("br"), m.start(0), m.end(0)


class _FencedBlocks(FencedBlockPreprocessor):
    """Fenced code whose unclosable openers are skipped instead of scanned.

    The fence regex tries every line that starts with a fence and, when no closing fence
    follows, scans to the end of the document: ``"```x\\n" * N`` is quadratic. A line like
    ```` ```lang ```` that has no bare closing fence of the same string after it can never
    open a block (and, having an info string, never closes one), so it is masked for the
    regex with a control character and restored afterwards: the output is unchanged.
    """

    def run(self, lines: list[str]) -> list[str]:
        closers: set[str] = set()
        masked = False
        for i in range(len(lines) - 1, -1, -1):
            fence = _FENCE_RE.match(lines[i])
            if fence is None:
                continue
            if not fence.group(3):
                closers.add(fence.group(1))
            elif fence.group(1) not in closers:
                lines[i] = _FENCE_SENTINEL[lines[i][0]] + lines[i][1:]
                masked = True
        lines = super().run(lines)
        if masked:
            lines = [_unmask_fences(line) for line in lines]
            stash = self.md.htmlStash.rawHtmlBlocks
            stash[:] = [_unmask_fences(block) for block in stash]  # masked lines inside code
        return lines


def _unmask_fences(text: str) -> str:
    return text.replace("\x01", "`").replace("\x02", "~")


class _TameBlocks(Preprocessor):
    """Caps blockquote nesting and pre-splits blocks made of many headings or rules.

    python-markdown peels one heading/rule off a block at a time and re-scans the rest of
    the block with every block processor's regex, so a block of N such lines costs N times
    its length. Only blocks with more than _MAX_SPLITS_PER_BLOCK such lines are touched; a
    blank line (inside a quote: its ``>`` prefix) is inserted after each splitting line,
    which is where python-markdown would have split anyway.
    Runs after fenced code is stashed, so code is never modified.
    """

    def run(self, lines: list[str]) -> list[str]:
        lines = [_DEEP_QUOTE_RE.sub(r"\1\\>", line) for line in lines]
        out: list[str] = []
        block: list[str] = []
        for line in [*lines, ""]:
            if line.strip():
                block.append(line)
                continue
            out.extend(self._split(block) if len(block) > _MAX_SPLITS_PER_BLOCK else block)
            out.append(line)
            block = []
        return out[:-1]

    @staticmethod
    def _split(block: list[str]) -> list[str]:
        prefixes = [_QUOTE_PREFIX_RE.match(line).group() for line in block]  # type: ignore[union-attr]
        splitters = [bool(_SPLITTER_RE.match(line, len(p))) for line, p in zip(block, prefixes)]
        if sum(splitters) <= _MAX_SPLITS_PER_BLOCK:
            return block
        out: list[str] = []
        for line, prefix, splits in zip(block, prefixes, splitters):
            out.append(line)
            if splits:
                out.append(prefix.rstrip())
        return out


class _ShapeTree(Treeprocessor):
    """Demotes headings and turns table alignment styles into classes (no inline CSS)."""

    _ALIGN_RE = re.compile(r"text-align:\s*(left|center|right)")

    def run(self, root: Element) -> None:
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                el.tag = f"h{min(int(el.tag[1]) + 2, 6)}"
            elif el.tag in ("th", "td"):
                align = self._ALIGN_RE.search(el.attrib.pop("style", ""))
                if align:
                    el.set("class", f"align-{align.group(1)}")


# Every block processor python-markdown registers except "paragraph": comments keep none.
_BLOCK_PROCESSORS = (
    "empty", "indent", "code", "hashheader", "setextheader", "hr", "olist", "ulist", "quote",
    "reference",
)


class _ForumMarkdown(Extension):
    """Wires the above into python-markdown; ``inline=True`` builds the comment dialect."""

    def __init__(self, inline: bool) -> None:
        super().__init__()
        self.inline = inline

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(_Reference(REFERENCE_RE, md), "reference", 170)
        md.inlinePatterns.register(_Link(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(_ShortReference(REFERENCE_RE, md), "short_reference", 130)
        md.inlinePatterns.register(
            _SimpleTag(r"(?i)<(kbd|sup|sub|del)>(.{1,300}?)</\1>", md), "simple_tags", 85
        )
        md.delimiters.add("~", "del", double=True)  # GFM ~~strikethrough~~
        if self.inline:
            for name in ("image_link", "image_reference", "short_image_ref", "linebreak"):
                md.inlinePatterns.deregister(name)
            for name in _BLOCK_PROCESSORS:
                md.parser.blockprocessors.deregister(name)
            return
        md.inlinePatterns.register(_Image(IMAGE_LINK_RE, md), "image_link", 150)
        md.inlinePatterns.register(
            _ImageReference(IMAGE_REFERENCE_RE, md), "image_reference", 140
        )
        md.inlinePatterns.register(
            _ShortImageReference(IMAGE_REFERENCE_RE, md), "short_image_ref", 125
        )
        md.inlinePatterns.register(_LineBreakTag(r"(?i)<br\s*/?>", md), "br_tag", 86)
        md.preprocessors.register(
            _FencedBlocks(md, {"lang_prefix": "language-"}), "fenced_code_block", 25
        )
        md.preprocessors.register(_TameBlocks(md), "tame_blocks", 15)
        md.treeprocessors.register(_ShapeTree(md), "forum_shape", 1)


# --------------------------------------------------------------------------- sanitising

_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_URL_NOISE_RE = re.compile(r"[\s\x00-\x20\x7f-\x9f]+|[^\x00-\x7f]")
_LANGUAGE_CHARS_RE = re.compile(r"[^a-z0-9+#\-]")


def _normalise_url(value: str) -> str:
    """The URL as a browser would resolve its scheme, made harder to sneak past.

    Entity-decodes until stable (``&amp;#106;avascript:`` stays ``javascript:``-shaped),
    drops whitespace, controls and non-ASCII (browsers ignore some of them inside a scheme),
    treats ``\\`` as ``/`` (as browsers do) and lowercases.
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
        return name == "class"  # value normalised by _CodeLanguageFilter
    if tag in ("th", "td"):
        return name == "class" and value in _ALIGN_CLASSES
    if tag == "ol":
        return name == "start" and value.isdigit() and len(value) <= 9
    return False


def _language_class(value: str) -> str | None:
    for token in html.unescape(value).lower().split():
        if token.startswith("language-"):
            name = _LANGUAGE_CHARS_RE.sub("", token[len("language-") :])[:40]
            return f"language-{name}" if name else None
    return None


class _CodeLanguageFilter(Filter):
    """Keeps only ``class="language-xxx"`` on ``<code>``, xxx reduced to ``[a-z0-9+#-]``."""

    def __iter__(self) -> Any:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "code" and token.get("data"):
                value = token["data"].pop((None, "class"), None)
                language = _language_class(value) if value else None
                if language:
                    token["data"][(None, "class")] = language
            yield token


def _link_callback(attrs: dict[Any, str], new: bool) -> dict[Any, str] | None:
    """bleach linkify callback: decides which links exist and sets ``rel``.

    Returning None turns the link back into its text: links whose href the sanitiser
    removed, and auto-detected "URLs" that were not written as URLs (``config.py``).
    """
    href = attrs.get((None, "href"))
    if href is None or not _is_safe_href(href):
        return None
    if new and not attrs.get("_text", "").lower().startswith(("http://", "https://", "www.")):
        return None
    if _is_external(href):
        attrs[(None, "rel")] = LINK_REL
    else:
        attrs.pop((None, "rel"), None)
    return attrs


def _new_cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    linkify = partial(
        LinkifyFilter, callbacks=[_link_callback], skip_tags={"pre", "code"}, parse_email=False
    )
    # strip=False: a tag outside the allowlist is shown as escaped text rather than dropped,
    # so nothing a user typed disappears silently. No "style" anywhere: no css_sanitizer.
    return bleach.Cleaner(
        tags=tags,
        attributes=_allow_attribute,
        protocols=PROTOCOLS,
        strip=False,
        strip_comments=True,
        filters=[_CodeLanguageFilter, linkify],
    )


# Markdown and Cleaner instances keep parse state, so each thread gets its own (built on
# first use: importing this module stays cheap).
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


# --------------------------------------------------------------------------- public API


def render_markdown(src: str) -> str:
    """Render a post body (question, answer, article, bio) to sanitised HTML.

    python-markdown (fenced code, tables, sane lists; no nl2br, as on StackOverflow) ->
    bleach allowlist -> linkify with ``rel="nofollow ugc noopener"`` on external links.
    Control characters are dropped and lone surrogates replaced by U+FFFD first.

    Raises:
        TypeError: ``src`` is not a ``str`` (bytes must be decoded by the caller, which
            knows the encoding).
    """
    src = _clean_source(src)
    if not src.strip():
        return ""
    md, cleaner = _pipeline(inline=False)
    return cleaner.clean(md.convert(src)).strip()


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
    body = md.convert(src)
    # Only the paragraph processor is left, and the source is one line, so the result is
    # exactly one <p>...</p>; unwrap it before sanitising (p is not allowed in comments).
    if body.startswith("<p>") and body.endswith("</p>"):
        body = body[3:-4]
    return cleaner.clean(body).replace("\n", " ").strip()


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
    whitespace collapses to single spaces, and script/style content is ignored. The result
    is plain text, *not* HTML: escape it when embedding it in a page (Jinja does).

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
    """Plain-text excerpt of at most ``length`` characters, ellipsis included.

    Cut at the last word boundary that fits and end with "…"; a single word longer than
    half the budget (a long URL) is cut mid-word rather than leaving a stub.

    Raises:
        TypeError: ``html_text`` is not a ``str``.
        ValueError: ``length`` is less than 1 (no room for even the ellipsis).
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
