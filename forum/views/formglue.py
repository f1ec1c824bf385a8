"""Glue between WTForms and service errors, shared by every HTML view."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm

from ..extensions import db
from ..services.errors import FieldError, InvalidState

NOT_SAVED: Any = object()


def show_field_error(form: FlaskForm, exc: FieldError) -> None:
    """Attach a service's FieldError to the matching form field (or the form as a whole)."""
    field = getattr(form, exc.field, None)
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form with errors, 200 for a fresh one."""
    return 400 if form.is_submitted() and (form.errors or form.form_errors) else 200


def save(form: FlaskForm, action: Callable[[], Any]) -> Any:
    """Run a submitted form's one service call and commit it: the request flow every form shares.

    Returns what ``action`` returned, or NOT_SAVED after rolling back when the service raised
    FieldError (shown beside its field) or InvalidState (shown above the form), so the user's
    text stays in the form. Other service errors propagate to the error pages.
    """
    try:
        result = action()
    except FieldError as exc:
        db.session.rollback()
        show_field_error(form, exc)
        return NOT_SAVED
    except InvalidState as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return NOT_SAVED
    db.session.commit()
    return result
