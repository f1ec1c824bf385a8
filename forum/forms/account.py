"""Forms of the account pages: password reset, e-mail confirmation, deletion, API tokens. Shape
only: the services (password_reset.py, verification.py, account_data.py, api_tokens.py) enforce
the rules."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import TOKEN_SCOPES
from ..services.api_tokens import NAME_MAX, expiry_choices
from . import PASSWORD_RULE


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
                       description="The address you signed up with. We'll e-mail you a link to choose a new password.")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired(), Length(10, 256, message=PASSWORD_RULE)],
                             description="At least 10 characters. Signs you out on every device.")


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=256)],
                             description="To make sure it is you.")
    confirm = BooleanField("I understand my account can't be restored.",
                           validators=[InputRequired(message="Tick the box to confirm.")])


#: What each scope lets a token do, as the settings page explains it.
SCOPE_LABELS = {
    "read": "read — questions, answers, tags, profiles and search (what you can see signed in)",
    "write": "write — ask, answer, comment, edit, vote, accept, flag and follow as you",
    "staff": "staff — triage, close, lock, pin, support cases and articles (staff only)",
}


def expiry_label(days: int) -> str:
    return "Never" if days == 0 else "1 year" if days == 365 else f"{days} days"


class ApiTokenForm(FlaskForm):
    """Shape only: services/api_tokens.py checks the name, the scopes (``staff`` for staff only)
    and the expiry (at most API_TOKEN_MAX_DAYS) again, so a forged POST gets the same answer."""

    name = StringField("Name", validators=[InputRequired(message="Give the token a name, such as the script or app "
                                                                 "that will use it."),
                                           Length(max=NAME_MAX, message=f"Keep the name under {NAME_MAX} characters.")],
                       description="What uses it, so you can tell your tokens apart: \u201cbackup script\u201d.")
    scopes = SelectMultipleField("Scopes", option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validate_choice=False, default=["read"])
    expires_in_days = SelectField("Expires", coerce=int, validate_choice=False, default=30,
                                  description="A token that expires can't be used forever by whoever finds it.")

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The staff scope is offered to staff only; a forged one is refused by the service.
        self.scopes.choices = [(s, SCOPE_LABELS[s]) for s in TOKEN_SCOPES if staff or s != "staff"]
        self.expires_in_days.choices = [(d, expiry_label(d)) for d in expiry_choices()]
