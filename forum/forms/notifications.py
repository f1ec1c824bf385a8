"""Notification settings: which events reach a member in the app and by e-mail."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField
from wtforms.fields.choices import SelectChoice

from ..services.notifications import EVENTS


class NotificationSettingsForm(FlaskForm):
    # The table template renders the checkboxes itself (events x channels); these fields only
    # check that every submitted value is a known event.
    in_app = SelectMultipleField("In the app", choices=[SelectChoice(e, e) for e in EVENTS], validate_choice=True)
    email = SelectMultipleField("By e-mail", choices=[SelectChoice(e, e) for e in EVENTS], validate_choice=True)
    digest = BooleanField("A daily e-mail with new unanswered questions in the tags I follow")
    helped_monthly = BooleanField("A monthly e-mail with how many people my answers helped",
                                  description="Sent early each month when your accepted answers helped someone "
                                              "the month before. Off unless you turn it on.")
    # Shown to staff only (templates/notifications/settings.html).
    weekly_report = BooleanField("A weekly insights report on Mondays: last week against the week before")
