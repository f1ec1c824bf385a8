"""The /insights filter: read from the query string (a GET form, no CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField


class InsightsForm(FlaskForm):
    # Shape only; services/insights.parse_filter checks the values and puts its errors here.
    start = StringField("From (UTC day)", description="YYYY-MM-DD")
    end = StringField("To (UTC day, included)", description="YYYY-MM-DD; at most 366 days")
    tags = StringField("Tags", description="Any of these, separated by spaces; empty for all")
