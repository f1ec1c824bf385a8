"""Password reset and e-mail confirmation forms: shape only; services/password_reset.py and
services/verification.py enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import Email, InputRequired, Length

from . import PASSWORD_RULE


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
                       description="The address you signed up with. We'll e-mail you a link to choose a new password.")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired(), Length(10, 256, message=PASSWORD_RULE)],
                             description="At least 10 characters. Signs you out on every device.")
