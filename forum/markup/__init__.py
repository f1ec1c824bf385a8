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
* Fenced code: ``<code class="language-xxx">`` with xxx reduced to ``[a-z0-9+#-]``; in a
  language Pygments knows, ``<span class="k">`` token classes inside (forum.markup.highlight).
* ``rel="nofollow ugc noopener"`` on links that leave the site (a scheme or ``//``);
  relative links (``/questions/12``, ``#answer-3``) stay as they are, without ``rel``.
* Links: http, https, mailto and relative. Images: this site's uploads (``/uploads/<id>.<ext>``,
  forum.services.uploads) as ``<img loading="lazy">``; images from other hosts (absolute
  http(s)) become links to them (``class="remote-image"``, the alt text as the link's text)
  unless the caller passes ``remote_images=True`` (setting REMOTE_IMAGES); no ``data:`` and no
  other same-origin GET from an ``<img>``. An image whose ``src`` is refused shows its alt text.
* Bare URLs are linkified only when written with ``http://``, ``https://`` or ``www.``.
* ``~~strike~~`` (GFM) -> ``<del>``. No nl2br: a single newline is not a line break.
* A post whose output would take too long to sanitise renders as its escaped source in a
  ``<pre>`` (see "Pathological input"); no realistic post gets there.

Relies on python-markdown 3.11 internals (DelimiterProcessor, BacktickInlineProcessor,
LinkInlineProcessor.getText/getLink); tests/unit/test_markup.py pins the behaviour.
This package must not import Flask: services, the CLI and tests all use it.

Layout: ``parser`` (the python-markdown extension), ``guards`` (pathological-input guards
it is built from), ``sanitise`` (bleach allowlist, link and attribute filters), ``text``
(source clean-up, to_plain_text, excerpt); this module holds the per-thread pipelines and
the public API.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import Any

import bleach
from markdown import Markdown

from .guards import TooComplex
from .highlight import highlight_code
from .links import LinkResolver, Resolved
from .parser import ForumMarkdown
from .sanitise import BLOCK_TAGS, INLINE_TAGS, new_cleaner, options, sanitise_html
from .text import clean_source, excerpt, to_plain_text

__all__ = ["RENDER_VERSION", "LinkResolver", "Rendered", "Resolved", "render_markdown", "render_inline",
           "render_post", "to_plain_text", "excerpt"]

#: Bump whenever the allowlist, the extensions or the output shape change; it is stored beside
#: ``body_html`` so that ``flask rerender`` knows which rows are stale.
#: 2: links to this site's threads, ``#123`` and ``@mentions`` (forum.markup.links).
#: 3: fenced code highlighted (forum.markup.highlight); uploaded images (``<img loading="lazy">``),
#: images from other hosts as links (REMOTE_IMAGES).
RENDER_VERSION: int = 3


@dataclass(frozen=True)
class Rendered:
    """A rendered body and what it points at, in order of appearance (see forum.markup.links)."""

    html: str
    links: tuple[tuple[str, int], ...] = ()  # ("question" | "article", id)
    mentions: tuple[int, ...] = ()  # user ids


# Markdown and Cleaner objects hold parse state, so each thread builds its own on first use
# (which also keeps importing this module cheap).
_local = threading.local()


def _pipeline(inline: bool) -> tuple[Markdown, bleach.Cleaner]:
    key = "inline" if inline else "block"
    pipeline = getattr(_local, key, None)
    if pipeline is None:
        extensions: list[Any] = [ForumMarkdown(inline=inline)]
        if not inline:
            extensions = ["tables", "sane_lists", *extensions]
        md = Markdown(extensions=extensions, output_format="html")
        pipeline = (md, new_cleaner(INLINE_TAGS if inline else INLINE_TAGS | BLOCK_TAGS | {"span"}))
        setattr(_local, key, pipeline)
    pipeline[0].reset()
    return pipeline


def _convert(md: Markdown, src: str, inline: bool) -> str | None:
    """python-markdown's HTML, or None when the source is too costly to render.

    TooComplex is the work budget running out. RecursionError is the net under the
    nesting caps: python-markdown recurses per level, and a post must never be a 500.
    """
    try:
        return md.convert(src)
    except (TooComplex, RecursionError):
        # Interrupted mid-parse, python-markdown keeps stale state (its block parser's
        # nesting stack is not reset by md.reset()): this thread builds a fresh one.
        _local.__dict__.pop("inline" if inline else "block", None)
        return None


# ----------------------------------------------------------------------------- public API


def _links_state(md: Markdown) -> Any:
    return next(ext.links for ext in md.registeredExtensions if isinstance(ext, ForumMarkdown))


def render_post(src: str, resolver: LinkResolver | None, *, inline: bool = False,
                remote_images: bool = False) -> Rendered:
    """Render a body (``inline``: a comment) and collect its site links and mentions.

    Same output as :func:`render_markdown` / :func:`render_inline`, plus: links to this
    site's questions and articles, ``#123`` and ``@username`` become links when
    ``resolver`` says their target exists (forum.markup.links). A body that renders as
    escaped source (too costly) links nothing. Raises TypeError for a non-``str`` source.
    """
    _local.resolver, _local.found = resolver, None
    try:
        html_out = render_inline(src) if inline else render_markdown(src, remote_images=remote_images)
        found = getattr(_local, "found", None)
    finally:
        _local.resolver = None
        _local.found = None
    if found is None:
        return Rendered(html_out)
    return Rendered(html_out, tuple(found[0]), tuple(found[1]))


def _convert_linked(md: Markdown, src: str, inline: bool) -> str | None:
    state = _links_state(md)
    state.resolver = getattr(_local, "resolver", None)
    out = _convert(md, src, inline)
    _local.found = (list(state.links), list(state.mentions)) if out is not None else None
    return out


def render_markdown(src: str, *, remote_images: bool = False) -> str:
    """Render a post body (question, answer, article, bio) to sanitised HTML.

    python-markdown (fenced code, tables, sane lists; no nl2br, as on StackOverflow) ->
    bleach allowlist -> linkify, ``rel="nofollow ugc noopener"`` on external links.
    Images from other hosts show as images only with ``remote_images``, else as links.
    Control characters are dropped and lone surrogates replaced by U+FFFD first. Never
    fails on a ``str``: a source too costly to render comes back escaped in a ``<pre>``.

    Raises:
        TypeError: ``src`` is not a ``str`` (bytes must be decoded by the caller, which
            knows the encoding).
    """
    src = clean_source(src)
    if not src.strip():
        return ""
    md, cleaner = _pipeline(inline=False)
    options.remote_images = remote_images
    try:
        body = sanitise_html(cleaner, highlight_code(_convert_linked(md, src, inline=False)))
    finally:
        options.remote_images = False
    if body is None:
        _local.found = None
        return f"<pre>{html.escape(src, quote=False)}</pre>"
    return body


def render_inline(src: str) -> str:
    """Render a comment: inline Markdown only, as one line of HTML without a ``<p>``.

    Emphasis, strong, ``~~del~~``, code spans, links and autolinks; no headings, lists,
    images, tables, code blocks or quotes (their syntax stays literal text). Newlines and
    runs of whitespace collapse to one space.

    Raises:
        TypeError: ``src`` is not a ``str``.
    """
    src = " ".join(clean_source(src).split())
    if not src:
        return ""
    md, cleaner = _pipeline(inline=True)
    body = _convert_linked(md, src, inline=True)
    # Only the paragraph processor is left and the source is one line, so this is exactly
    # one <p>...</p>: unwrap it before sanitising (p is not allowed in comments).
    if body is not None and body.startswith("<p>") and body.endswith("</p>"):
        body = body[3:-4]
    body = sanitise_html(cleaner, body)
    if body is None:
        _local.found = None
        return html.escape(src, quote=False)
    return body.replace("\n", " ")
