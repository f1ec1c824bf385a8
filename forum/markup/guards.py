"""Pathological-input guards for python-markdown: work budget, bounded scans, nesting caps.

Mixins and processors that keep python-markdown linear (or at least bounded) on hostile
input; forum.markup.parser wires them into the forum's Markdown extension. Relies on
python-markdown 3.11 internals (DelimiterProcessor, BacktickInlineProcessor,
LinkInlineProcessor.getText/getLink); tests/unit/test_markup.py pins the behaviour.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element

from markdown import Markdown
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.inlinepatterns import BacktickInlineProcessor, DelimiterProcessor, InlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

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
# Unclosed emphasis runs python-markdown keeps on its stack (see Emphasis).
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
# after an optional blockquote prefix; see TameBlocks.
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
# or beyond MAX_SANITISER_WORK tags plus character references in python-markdown's output,
# the post renders as its escaped source; the worst case that still renders is ~0.3 s.
MAX_MARKDOWN_WORK = 3_500
MAX_SANITISER_WORK = 7_000


class TooComplex(Exception):
    """Raised inside python-markdown when a conversion runs out of work budget."""


class Budget:
    def __init__(self) -> None:
        self.left = MAX_MARKDOWN_WORK

    def spend(self, units: int = 1) -> None:
        self.left -= units
        if self.left < 0:
            raise TooComplex


_Match = tuple[Element | str | None, int | None, int | None]  # what an InlineProcessor's handleMatch returns


class Counted(InlineProcessor):
    """Mixin: every construct the processor builds is charged to the conversion's budget."""

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    # types-Markdown types InlineProcessor.handleMatch against Pattern's with an ignore of its own.
    def handleMatch(self, m: re.Match[str], data: str) -> _Match:  # type: ignore[override]  # noqa: N802
        result = super().handleMatch(m, data)
        if result[0] is not None:
            self.budget.spend()
        return result


class BoundedText:
    """Mixin: getText() that gives up past _MAX_BRACKET_DEPTH instead of scanning on.

    Same result as python-markdown's character loop for any nesting up to that depth,
    found by one regex match instead of a Python loop over every character.
    """

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802
        match = _BRACKETED_TEXT_RE.match(data, index)
        return (match.group(1), match.end(), True) if match else ("", index, False)


class BoundedLink:
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


class Emphasis(DelimiterProcessor):
    """python-markdown's ``*``/``_``/``~~`` pairing, bounded.

    Unclosed runs pile up on a stack (a deque) that is walked on every ambiguous run:
    "__**- ****" repeated took 1.4 s. Past _MAX_OPEN_DELIMITERS open runs the oldest is
    dropped and stays literal text (real paragraphs leave a few open: "*.txt", "*nix"), and
    every run examined is charged to the budget.
    """

    def __init__(self, *args: Any, budget: Budget) -> None:
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


class Backtick(Counted, BacktickInlineProcessor):
    """Code spans found with C-speed regex searches instead of a per-character loop.

    For a backtick run without a closing run of the same length python-markdown walks to
    the end of the paragraph, then skips as many characters again as the run was long -
    into the next run, whose tail fails the same way: "```" then runs of 9 took 3 s. Same
    rules here (first later run of the same length closes, else the longest shorter run),
    but a failed run is skipped exactly: only runs whose length never recurs can fail, and
    30,000 characters hold at most ~245 distinct lengths.
    """

    # types-Markdown has the signature before 3.11, which returns (start, None) for an unclosed run.
    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:  # type: ignore[override]
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


class FencedBlocks(FencedBlockPreprocessor):
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


class TameBlocks(Preprocessor):
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


class ChargeBlocks(Treeprocessor):
    """Charges the block elements to the budget before inline parsing multiplies them."""

    def __init__(self, md: Markdown, budget: Budget) -> None:
        super().__init__(md)
        self.budget = budget

    def run(self, root: Element) -> None:
        self.budget.spend(sum(1 for _ in root.iter()))
