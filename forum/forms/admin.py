"""Admin area forms: shape only; services/admin.py and services/site_settings.py check the values."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..services.admin import ROLE_LABELS
from ..services.site_settings import SETTINGS
from ..services.webhooks import EVENT_LABELS, FORMAT_LABELS


class RoleForm(FlaskForm):
    role = SelectField("New role", choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
    reason = TextAreaField("Reason", validators=[Length(max=500)],
                           description="Required; kept in the moderation log with the change.")


class SettingsForm(FlaskForm):
    """One field per whitelisted setting (named by its key), added below. Numbers are text
    fields: the service parses them and says what is wrong, with the typed text kept."""

    reason = StringField("Reason for the change", validators=[Length(max=500)],
                         description="Optional; kept in the moderation log.")


for _s in SETTINGS:
    if _s.kind == "bool":
        setattr(SettingsForm, _s.key, BooleanField(_s.label, description=_s.hint))
    else:
        setattr(SettingsForm, _s.key, StringField(_s.label, description=_s.hint))


class WebhookForm(FlaskForm):
    """Shape only: services/webhooks.py checks the URL (and where it points), events and format."""

    url = StringField("Payload URL", description="https:// or http://. Public addresses only, unless private "
                                                 "ones are allowed in the site settings (Integrations).")
    events = SelectMultipleField("Events", choices=[SelectChoice(k, f"{k} — {v}") for k, v in EVENT_LABELS.items()],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validate_choice=False)
    format = SelectField("Format", choices=[SelectChoice(k, v) for k, v in FORMAT_LABELS.items()], validate_choice=False)
