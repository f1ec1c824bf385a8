"""Forms of single sign-on: the first sign-in's account form."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional


class SsoAccountForm(FlaskForm):
    """Username (derived from the provider, editable) and, only when the provider gave none, an e-mail."""

    username = StringField("Username", validators=[InputRequired(), Length(3, 30, message="Use 3-30 letters, digits or underscores.")],
                           description="3-30 letters, digits or underscores. Shown on everything you post.")
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
                       description="Your company account has no e-mail address; we need one to send you replies. "
                                   "Never shown to other members.")


class SsoClaimForm(FlaskForm):
    """The password of the account here that has the provider's e-mail, to link the two."""

    password = PasswordField("Password of your account here", validators=[InputRequired(), Length(max=256)])
