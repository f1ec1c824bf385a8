"""Forms for the support desk: triage, playbooks, canned replies, private cases."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import SEVERITIES, TRIAGE_TYPES
from ..services.support import MAX_TARGET_HOURS, SEVERITY_LABELS, TYPE_LABELS
from . import max_length_from


class TriageForm(FlaskForm):
    type = SelectField("Type", choices=[SelectChoice(t, TYPE_LABELS[t]) for t in TRIAGE_TYPES])
    severity = SelectField("Severity", choices=[SelectChoice(s, SEVERITY_LABELS[s]) for s in SEVERITIES], default="normal")


def triage_form_for(triage: object | None) -> TriageForm:
    """The triage form of one question, for display: its triage, or for an untriaged question no
    choice made yet (pre-selected "Question" and "Normal" made untriaged rows look triaged)."""
    form = TriageForm(formdata=None, obj=triage)
    if triage is None:
        form.type.choices = [SelectChoice("", "Type…"), *TriageForm.type.kwargs["choices"]]
        form.severity.choices = [SelectChoice("", "Severity…"), *TriageForm.severity.kwargs["choices"]]
        form.type.data = form.severity.data = ""
    return form


class PlaybookForm(FlaskForm):
    target_hours = IntegerField("First-response target (hours)", validators=[
        InputRequired(message="Give a target in hours."),
        NumberRange(1, MAX_TARGET_HOURS, message=f"Between 1 and {MAX_TARGET_HOURS} hours.")])
    first_reply = TextAreaField("Suggested first reply", validators=[max_length_from("CANNED_REPLY_MAX_LENGTH")],
                                description="Markdown; {asker}, {question_link} and {article_link} are filled in.")
    notify_roles = SelectMultipleField("On a breach, also tell everyone who is", validators=[Optional()],
                                       choices=[SelectChoice("agent", "Agent"), SelectChoice("moderator", "Moderator"),
                                                SelectChoice("admin", "Admin")],
                                       option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    watchers = StringField("And these staff members", validators=[Length(max=600)],
                           description="Usernames separated by spaces. Staff on duty are always told.")


class CannedReplyForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), Length(3, 100)])
    body = TextAreaField("Reply", validators=[InputRequired(), max_length_from("CANNED_REPLY_MAX_LENGTH")],
                         description="Markdown. Placeholders: {asker}, {question_link}, {article_link}.")


class CaseMessageForm(FlaskForm):
    body = TextAreaField("Message", validators=[InputRequired(), max_length_from("CASE_MESSAGE_MAX_LENGTH")],
                         description="Only you and the support team see this. Markdown supported.")


class CaseStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice("open", "Open"),
                                            SelectChoice("waiting", "Waiting for the customer")])


class ExternalRefForm(FlaskForm):
    """Shape only: services/cases.py checks the reference (length, printable characters)."""

    external_ref = StringField("Ticket or CRM reference", description="Empty removes it. Case webhooks carry it.")


class ResolveForm(FlaskForm):
    summary = TextAreaField("Public resolution summary", validators=[InputRequired(), max_length_from("CASE_RESOLUTION_MAX_LENGTH")],
                            description="Posted on the public question as your official answer, and sent to everyone "
                                        "who follows it. Leave out anything private.")
    # The confirm step's "Resolve anyway" button (confirm=1), shown while the customer's reply is unanswered.
    confirm = BooleanField("Resolve anyway")
