"""Forms for knowledge-base articles: shape validation only (the service checks the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from . import max_length_from


class ArticleForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), max_length_from("TITLE_MAX_LENGTH")],
                        description="What the reader wants to do or fix, e.g. “Reset the hub to factory settings”.")
    body = TextAreaField("Article", validators=[InputRequired(), max_length_from("BODY_MAX_LENGTH")],
                         description="Markdown: headings with #, numbered steps, `code`, links.")
    tags = StringField("Tags", validators=[InputRequired(), Length(max=250)],
                       description="1-5 tags separated by spaces or commas, e.g. setup wifi")
    summary = StringField("Edit summary", validators=[Length(max=200)])


class ArticleStateForm(FlaskForm):
    """A state button: publish, back to draft, archive."""

    state = HiddenField(validators=[InputRequired(), AnyOf(["draft", "published", "archived"])])


class FeedbackForm(FlaskForm):
    """"Was this helpful?": the button pressed sends helpful=yes or helpful=no."""

    helpful = HiddenField(validators=[InputRequired(), AnyOf(["yes", "no"])])
