"""Glue between WTForms and service errors, shared by every HTML view."""
from __future__ import annotations

from flask_wtf import FlaskForm

from ..services.errors import FieldError


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
