"""Forms of the member's own account pages (signed-in devices, data, deletion)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import InputRequired, Length


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=256)],
                             description="To make sure it is you.")
    confirm = BooleanField("I understand my account can't be restored.",
                           validators=[InputRequired(message="Tick the box to confirm.")])
