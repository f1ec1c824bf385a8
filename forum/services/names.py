"""Names a member can't impersonate with: usernames and display names.

Every name is normalised (NFKC, runs of spaces collapsed) and refused when it holds a
control, format (bidirectional overrides such as U+202E, zero-width joiners), private-use or
unassigned character. What a name looks like is its *skeleton*: Unicode's confusables table
(``confusable_homoglyphs``, generated from Unicode's confusables.txt) maps every character to
a representative of its look-alike class, so "аdmin" (Cyrillic а), "ａｄｍｉｎ" and "adm1n" all
become the same string. A new name is refused when its skeleton equals the skeleton of
another member's username or display name (two indexed columns on ``users``, one query) or
contains the skeleton of a staff word ("staff", "support", "admin", "moderator", the site
and company names, ``NAME_RESERVED_WORDS``): staff are marked only by the Staff badge.
"""
from __future__ import annotations

import re
import string
import unicodedata
from functools import cache

from flask import current_app
from sqlalchemy import or_, select

from ..extensions import db
from ..models import User
from .errors import FieldError

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
# Refused as whole usernames; the staff words are refused anywhere inside a name (NAME_RESERVED_WORDS).
RESERVED_USERNAMES = frozenset({"admin", "administrator", "staff", "support", "moderator", "system", "root"})
DISPLAY_NAME_MAX = 60
SKELETON_MAX = 200
# Unicode general categories no name needs: controls, format characters (bidirectional
# embeddings and overrides, zero-width space/joiners, soft hyphen, BOM), surrogates, private
# use, unassigned, and the line/paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# More than this many combining marks on one letter is "Zalgo" text, drawn over its neighbours.
_MAX_MARKS = 2


@cache
def _classes() -> tuple[dict[str, str], dict[str, str]]:
    """(character → representative of its look-alike class, representative → ASCII sequence).

    Built once per process from the confusables table: every character is joined with its
    homoglyphs (union-find), and ASCII letters with their other case, so "I", "l", "1" and
    "|" land in one class. Case is joined for ASCII only: joining it for every script chains
    unrelated letters together (u ~ υ ~ Υ ~ Y ~ y). A class whose prototype is a sequence
    (m → "rn") maps to that sequence.
    """
    # Imported here: loading the table takes about 0.2 s, paid by the first name check of a
    # process rather than by every process start (CLI commands, workers that never see a form).
    from confusable_homoglyphs import confusables

    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        root = ch
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(ch, ch) != root:  # path compression
            parent[ch], ch = root, parent[ch]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    sequences: dict[str, str] = {}
    for key, glyphs in confusables.confusables_data.items():
        key = key.replace("\u200e", "")  # the table wraps right-to-left characters in LRM marks
        if len(key) != 1:
            continue
        for glyph in glyphs:
            seq = glyph["c"].replace("\u200e", "")
            if len(seq) == 1:
                union(key, seq)
            elif seq.isascii() and seq.isalpha():
                sequences[key] = seq.lower()
    for ch in string.ascii_uppercase:
        union(ch, ch.lower())
    chars = set(parent) | set(sequences)
    rep = {ch: find(ch) for ch in chars}
    multi = {rep[ch]: seq for ch, seq in sequences.items()}
    return rep, multi


def skeleton(name: str) -> str:
    """What ``name`` looks like: equal skeletons mean names a reader can't tell apart.

    Case, accents, spaces and punctuation are ignored ("Chris Hale", "chris_hale", "ĆHRIS-HALE"
    look alike), then each character is replaced by its look-alike class.
    """
    rep, multi = _classes()
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", name))
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch).startswith("M"):
            continue
        r = rep.get(ch, ch)
        for part in multi.get(r, r):
            part = rep.get(part, part)
            if part.isalnum():
                out.append(part.lower())
    return "".join(out)[:SKELETON_MAX]


def normalise(name: str) -> str:
    """NFKC and single spaces (any run of Unicode whitespace becomes one space), trimmed."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def forbidden_character(name: str) -> str | None:
    """A description of the first character a name must not hold, or None when it has none."""
    marks = 0
    for ch in name:
        category = unicodedata.category(ch)
        if category in _FORBIDDEN_CATEGORIES:
            label = unicodedata.name(ch, "a control character")
            return f"U+{ord(ch):04X} ({label.lower()})"
        marks = marks + 1 if category.startswith("M") else 0
        if marks > _MAX_MARKS:
            return "a stack of combining marks"
    return None


def staff_words() -> list[str]:
    """The skeletons no member's name may contain (staff words, the site and company names)."""
    cfg = current_app.config
    words = [w for w in (cfg["NAME_RESERVED_WORDS"].split(",")) if w.strip()]
    words += [cfg.get("SITE_NAME", ""), cfg.get("COMPANY_NAME", "")]
    return sorted({s for s in (skeleton(w) for w in words) if s})


def _check_characters(name: str, field: str) -> None:
    bad = forbidden_character(name)
    if bad is not None:
        raise FieldError(field, f"Names can't contain {bad}. Use letters, digits, spaces and punctuation.")


def _check_staff_words(skel: str, field: str) -> None:
    if any(word in skel for word in staff_words()):
        raise FieldError(field, "That name looks like a staff name. Staff are marked by the Staff badge, "
                                "so names can't include words such as \u201cstaff\u201d, \u201csupport\u201d, "
                                "\u201cadmin\u201d, \u201cmoderator\u201d or the site's name.")


def _check_unlike_others(skel: str, field: str, exclude_user_id: int | None) -> None:
    # Two indexed equality lookups (PostgreSQL ORs the two indexes), never a scan of members.
    stmt = select(User.id).where(or_(User.username_skeleton == skel, User.display_name_skeleton == skel)).limit(1)
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    if db.session.scalar(stmt) is not None:
        raise FieldError(field, "That name looks too much like another member's name. Choose another.")


def check_username(username: str, *, exclude_user_id: int | None = None, allow_reserved: bool = False) -> str:
    """Return ``username`` normalised (NFKC, trimmed) when a new account (or ``exclude_user_id``
    renaming itself) may take it.

    Raises FieldError("username", ...) when it is malformed (3-30 ASCII letters, digits or
    underscores after NFKC, so full-width "ａｄｍｉｎ" counts as "admin"), taken (case-insensitively),
    confusable with another member's username or display name, or holds a staff word (unless
    ``allow_reserved``: the admin CLI and the demo seed name staff accounts).
    """
    name = unicodedata.normalize("NFKC", username).strip()
    if not USERNAME_RE.match(name):
        raise FieldError("username", "Use 3-30 letters, digits or underscores.")
    if name.lower() in RESERVED_USERNAMES and not allow_reserved:
        raise FieldError("username", "That username is reserved.")
    taken = select(User.id).where(User.username_key == name.lower())
    if exclude_user_id is not None:
        taken = taken.where(User.id != exclude_user_id)
    if db.session.scalar(taken) is not None:
        raise FieldError("username", "That username is taken.")
    skel = skeleton(name)
    if not allow_reserved:
        _check_staff_words(skel, "username")
    _check_unlike_others(skel, "username", exclude_user_id)
    return name


def check_display_name(display_name: str, *, exclude_user_id: int | None = None,
                       allow_reserved: bool = False) -> str:
    """Return ``display_name`` normalised (NFKC, single spaces); "" means none (the username shows).

    Raises FieldError("display_name", ...) when it is too long, holds a control, bidirectional,
    zero-width or other invisible character, looks like another member's username or display
    name, or holds a staff word (unless ``allow_reserved``).
    """
    _check_characters(display_name, "display_name")
    name = normalise(display_name)
    _check_characters(name, "display_name")  # NFKC can't create one, but say so if it ever did
    if len(name) > DISPLAY_NAME_MAX:
        raise FieldError("display_name", f"Keep the display name under {DISPLAY_NAME_MAX} characters.")
    if not name:
        return ""
    skel = skeleton(name)
    if not skel:
        raise FieldError("display_name", "Use at least one letter or digit in the display name.")
    if not allow_reserved:
        _check_staff_words(skel, "display_name")
    _check_unlike_others(skel, "display_name", exclude_user_id)
    return name
