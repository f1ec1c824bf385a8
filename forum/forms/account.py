"""Forms of the account pages: password reset, e-mail confirmation, deletion. Shape only: the
services (password_reset.py, verification.py, account_data.py) enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import Email, InputRequired, Length

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
