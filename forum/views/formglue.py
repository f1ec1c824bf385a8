"""The write path every view shares: one transaction per request, refusals shown where they can be fixed.

A view that changes anything is decorated with ``@writes`` (below ``@login_required``). It
parses the request, makes its one service call through ``save``, and answers (flash and
redirect, a page, or JSON). ``@writes`` then ends the transaction, so no view commits or
rolls back by itself:

- the view answered with a success (status below 400): commit once;
- the service refused with FieldError or InvalidState: ``save`` rolled back and put the
  message on the form (re-rendered with what the person typed, status 400) or in a flash;
  nothing is committed, whatever the view answers;
- the view answered 4xx/5xx on its own (a form that did not validate, or a posting limit
  caught and shown on the form by ``too_fast``, 429): roll back;
- anything raised (PermissionDenied, NotFound, an abort, a database error, or the commit
  itself failing): roll back, put the visitor's session back as it was before the request
  (so no "saved" message is flashed and no account is signed in for a write that did not
  happen), and let the app's error handlers answer with the error page, or
  ``{"error": {...}}`` for JSON clients (``forum/web.py``, ``errorpages.py``).

GET, HEAD and OPTIONS never commit: ``@writes`` hands them straight to the view (the blank
form of a GET/POST page), and ``guard_reads`` turns any commit attempted while answering one
into an error.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import wraps
from typing import Any, Final, ParamSpec, TypeVar

from flask import Flask, current_app, flash, g, has_request_context, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..services.errors import FieldError, FieldErrors, InvalidState, RateLimited, ServiceError
from ..services.links import render_body
from .errorpages import wants_json

P = ParamSpec("P")
T = TypeVar("T")

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
#: The refusals a person can act on where they are: fix a field, or learn the state changed.
REFUSALS: Final[tuple[type[ServiceError], ...]] = (FieldError, InvalidState)

# Marks on request.environ, not on g: an app context can outlive its request (tests hold one).
_WRITING = "forum.writing"  # inside a @writes view answering a POST
_REFUSED = "forum.refused"  # save() caught a refusal: the transaction must not commit
_READ_ONLY = "forum.read_only"  # answering GET/HEAD/OPTIONS (set by guard_reads)
_MARK = "forum_writes"  # on the view function, for the test that every POST route is wrapped


class NotSaved(Enum):
    """The type of NOT_SAVED (an enum member, so ``is not NOT_SAVED`` narrows ``T | NotSaved`` to T)."""

    NOT_SAVED = "not saved"


#: What ``save`` returns when the service refused (the reason is already shown).
NOT_SAVED: Final = NotSaved.NOT_SAVED


def writes(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Run a POST view as one transaction: commit once if it succeeds, roll back otherwise.

    See the module docstring for the rules. Exceptions are re-raised after the rollback, for
    the error handlers; a GET/HEAD/OPTIONS request runs the view alone, with no transaction
    handling at all.
    """

    @wraps(view)
    def run(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if request.method in SAFE_METHODS:
            return view(*args, **kwargs)
        kept = _KeptSession.take()
        request.environ[_WRITING] = True
        try:
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < 400 and not request.environ.get(_REFUSED):
                db.session.commit()
            else:
                db.session.rollback()
        except BaseException:
            db.session.rollback()
            kept.restore()
            raise
        return response

    setattr(run, _MARK, True)
    return run


def is_write_view(view: Callable[..., Any]) -> bool:
    """True when ``view`` (or the view it wraps, e.g. under login_required) is a ``@writes`` view."""
    return bool(getattr(view, _MARK, False))


def save(form: FlaskForm | None, action: Callable[[], T], *,
         refused: Callable[[ServiceError], None] | None = None) -> T | NotSaved:
    """Make a view's one service call inside its ``@writes`` transaction.

    Returns what ``action`` returned. When the service refuses with FieldError or
    InvalidState, rolls back (so nothing it flushed is stored, whatever the view answers)
    and returns NOT_SAVED after showing the message: through ``refused`` when given; else
    beside its field (FieldError) or above the form (InvalidState) so the form can be shown
    again with the person's text; else, without a form, as an error flash. JSON clients get
    the refusal re-raised instead, which the error handler answers as ``{"error": ...}``.
    Other exceptions propagate to ``@writes``.

    Raises RuntimeError outside a ``@writes`` view answering a POST: nothing would commit there.
    """
    if not request.environ.get(_WRITING):
        raise RuntimeError("save() belongs in a @writes view answering a POST; nothing else commits.")
    try:
        return action()
    except REFUSALS as exc:
        db.session.rollback()
        request.environ[_REFUSED] = True
        if wants_json():
            raise
        if refused is not None:
            refused(exc)
        elif form is not None:
            show_error(form, exc)
        else:
            flash(exc.message, "error")
        return NOT_SAVED


def too_fast(form: FlaskForm, exc: RateLimited, page: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """A posting limit refused ``form``: ``page()`` again with what was typed and the wait above
    it, status 429 and Retry-After (the error page would lose the text). JSON clients get the
    refusal re-raised, answered by the error handler. Rolls back first, like ``save``."""
    if wants_json():
        raise exc
    db.session.rollback()
    form.form_errors.append(exc.message)
    response = make_response(page())
    response.status_code = 429
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def show_error(form: FlaskForm, exc: ServiceError, rename: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: a FieldError beside its field (``rename`` maps the
    service's field names to this form's; FieldErrors: each beside its own), anything else (or
    an unknown field) above the form."""
    if isinstance(exc, FieldErrors):
        for error in exc.each():
            show_error(form, error, rename)
        return
    field = getattr(form, (rename or {}).get(exc.field, exc.field), None) if isinstance(exc, FieldError) else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def check_rest(form: FlaskForm, check: Callable[[], object]) -> None:
    """After a submitted form failed its own validation, run the service's input ``check`` (it
    must not write) and show its errors beside the fields that have none yet, so one submit
    reports every problem, not the form's first and the service's on the next round trip."""
    if not form.is_submitted():
        return
    try:
        check()
    except FieldError as exc:
        for error in exc.each():
            field = getattr(form, error.field, None)
            if field is not None and not field.errors:
                field.errors = [*field.errors, error.message]


def flashed(category: str = "info", prefix: str = "") -> Callable[[ServiceError], None]:
    """A ``refused`` for ``save`` that flashes the refusal (for one-button actions that go back
    where they came from either way)."""
    return lambda exc: flash(f"{prefix}{exc.message}", category)


def fields_on(form: FlaskForm, category: str = "info") -> Callable[[ServiceError], None]:
    """A ``refused`` for ``save``: a FieldError goes beside its field of ``form`` (to show the
    form again), any other refusal is flashed (to go back, as after a success)."""

    def refused(exc: ServiceError) -> None:
        if isinstance(exc, FieldError):
            show_error(form, exc)
        else:
            flash(exc.message, category)

    return refused


def has_errors(form: FlaskForm) -> bool:
    """True when the form or one of its fields carries an error (from validation or a service)."""
    return bool(form.errors)


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form with errors, 200 for a fresh one."""
    return 400 if form.is_submitted() and has_errors(form) else 200


def form_messages(form: FlaskForm) -> str:
    """Every error on the form in one line, for pages that show it beside a button, not a form."""
    return " ".join(message for messages in form.errors.values() for message in messages)


@dataclass(frozen=True, slots=True)
class _KeptSession:
    """The visitor's session as the request found it, to put back when the write fails."""

    items: dict[str, Any]

    @classmethod
    def take(cls) -> _KeptSession:
        # A deep copy: flash() appends to the stored list in place.
        return cls(copy.deepcopy(dict(session)))

    def restore(self) -> None:
        if dict(session) == self.items:
            return
        session.clear()
        session.update(self.items)
        g.pop("_login_user", None)  # Flask-Login's cached user: load it again from the session put back


def guard_reads(app: Flask) -> None:
    """Make any commit of the request's session while answering GET, HEAD or OPTIONS raise
    RuntimeError (then a 500): reading a page must never write. SAVEPOINTs are not counted;
    only the outermost commit is."""
    app.before_request(_note_method)
    if not event.contains(FlaskSession, "before_commit", _refuse_commit_on_read):
        event.listen(FlaskSession, "before_commit", _refuse_commit_on_read)


def _note_method() -> None:
    request.environ[_READ_ONLY] = request.method in SAFE_METHODS


def _refuse_commit_on_read(session: Session) -> None:
    if has_request_context() and request.environ.get(_READ_ONLY) and not session.in_nested_transaction():
        raise RuntimeError(f"{request.method} {request.path} tried to commit; "
                           "only @writes views answering a POST commit.")


def editor_preview(text: str | None) -> Markup:
    """The live preview of text already in an editor (a draft, an edit, a rejected post), for the
    page to serve with it (``markdown_editor(..., shown=...)``): the sanitised HTML the preview
    endpoint returns. Fetched after the load instead, it would push the submit button down
    under a quick click. Computed here, in the view: templates run no query (links resolve)."""
    if not text or not text.strip():
        return Markup("")
    return Markup(render_body(text).html)  # the sanitiser's output (bleach allowlist), as stored posts

