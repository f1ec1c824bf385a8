"""Moderation forms: shape only; services/flags.py and services/moderation.py enforce the rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..services.flags import REASON_LABELS

FLAG_CHOICES = [SelectChoice(k, v) for k, v in REASON_LABELS.items()]


class FlagForm(FlaskForm):
    reason = RadioField("Why are you flagging this?", choices=FLAG_CHOICES,
                        validators=[InputRequired(message="Choose why you are flagging this post.")])
    note = TextAreaField("Note for the moderators", validators=[Length(max=500)],
                         description="Optional, up to 500 characters; required for “Other”.")


class ReasonForm(FlaskForm):
    """A moderation button with an optional reason (dismiss, hide, delete, approve, reject, unhide ...)."""

    reason = StringField("Reason", validators=[Length(max=500)])


class RestrictForm(FlaskForm):
    """Suspend or silence for a number of days, with a reason the user sees."""

    days = IntegerField("Days", validators=[InputRequired(message="Enter a number of days."),
                                            NumberRange(1, 365, message="Enter a number of days from 1 to 365.")])
    reason = TextAreaField("Reason (the user sees this)",
                           validators=[InputRequired(message="Give a reason."), Length(max=500)])


class FlagActionForm(FlaskForm):
    """An action on a flagged post; ``days`` only matters for "suspend", the reason is required for warn/suspend."""

    days = IntegerField("Days", validators=[Optional(), NumberRange(1, 365, message="Enter a number of days from 1 to 365.")])
    reason = StringField("Reason", validators=[Length(max=500)])


class NoteForm(FlaskForm):
    body = TextAreaField("Private note", validators=[InputRequired(message="Write the note first."), Length(max=2000)],
                         description="Only moderators see notes; never the member.")


class WatchedWordForm(FlaskForm):
    phrase = StringField("Word or phrase", validators=[InputRequired(message="Enter a word or phrase."),
                                                      Length(max=100)],
                         description="Matched case-insensitively as a whole word or phrase.")
    action = SelectField("Action", choices=[SelectChoice("review", "Hold for review"), SelectChoice("block", "Block the post")],
                         validators=[InputRequired()])
