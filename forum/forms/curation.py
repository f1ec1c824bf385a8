"""Forms for staff curation."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..services.curation import CLOSE_REASONS


class CloseForm(FlaskForm):
    reason = RadioField("Why close it?", choices=[SelectChoice(k, v) for k, v in CLOSE_REASONS.items()],
                        validators=[InputRequired(message="Choose a reason.")])
    duplicate_of = StringField("Original question (number or link)", validators=[Length(max=300)],
                               description="Only for duplicates, e.g. 42 or https://…/questions/42/…")
    note = TextAreaField("Note shown on the question", validators=[Length(max=500)])


class AnnouncementForm(FlaskForm):
    message = StringField("Message", validators=[InputRequired(), Length(5, 300)],
                          description="One sentence, e.g. \"Some hubs are offline in Europe; we're on it.\"")
    severity = SelectField("Severity", choices=[SelectChoice("info", "Info"), SelectChoice("warning", "Warning"),
                                                    SelectChoice("outage", "Outage")])
    incident = StringField("Incident thread (number or link)", validators=[Length(max=300)],
                           description="Optional: the question where updates are posted.")
    starts_at = DateTimeLocalField("Starts (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                 description="Leave empty to keep it up until you end it.")
