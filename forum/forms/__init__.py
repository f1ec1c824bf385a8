"""WTForms: shape validation only. Limits come from config; services enforce them again."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, ValidationError

PASSWORD_RULE = "Use at least 10 characters (at most 256)."


def max_length_from(key: str) -> Callable[[FlaskForm, StringField], None]:
    def check(form: FlaskForm, field: StringField) -> None:
        limit = current_app.config[key]
        if field.data and len(field.data) > limit:
            raise ValidationError(f"Keep it under {limit:,} characters (this is {len(field.data):,}).")

    return check


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(3, 30, message="Use 3-30 letters, digits or underscores.")],
                           description="3-30 letters, digits or underscores. Shown on everything you post.")
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
                       description="Never shown to other members.")
    password = PasswordField("Password", validators=[InputRequired(), Length(10, 256, message=PASSWORD_RULE)],
                             description="At least 10 characters.")


class LoginForm(FlaskForm):
    login = StringField("Username or e-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in")


class QuestionForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), max_length_from("TITLE_MAX_LENGTH")],
                        description="Be specific: what were you doing and what went wrong?")
    body = TextAreaField("Details", validators=[InputRequired(), max_length_from("BODY_MAX_LENGTH")],
                         description="Markdown: **bold**, `code`, ``` fenced blocks ```, lists, links.")
    tags = StringField("Tags", validators=[InputRequired(), Length(max=250)],
                       description="1-5 tags separated by spaces; join the words of one tag with hyphens, "
                                   "e.g. hub-offline wifi. Pick from the suggestions as you type.")
    summary = StringField("Edit summary", validators=[Length(max=200)])


class TagWikiForm(FlaskForm):
    wiki = TextAreaField("Description", validators=[max_length_from("TAG_WIKI_MAX_LENGTH")],
                         description="Markdown. What the tag is for and when to use it; the first sentences "
                                     "are shown in the tag list and the suggestions while people type tags.")


class AnswerForm(FlaskForm):
    body = TextAreaField("Answer", validators=[InputRequired(), max_length_from("ANSWER_MAX_LENGTH")],
                         description="Markdown supported. Explain the steps that worked.")
    summary = StringField("Edit summary", validators=[Length(max=200)])


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[InputRequired(), max_length_from("COMMENT_MAX_LENGTH")],
                         description="Up to 600 characters; *emphasis*, `code` and links.")


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[Length(max=60)])
    bio = TextAreaField("About you", validators=[max_length_from("BIO_MAX_LENGTH")], description="Markdown supported.")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired(), Length(max=256)])
    new_password = PasswordField("New password", validators=[InputRequired(), Length(10, 256, message=PASSWORD_RULE)],
                                 description="At least 10 characters. Signs you out everywhere else.")


class EmailForm(FlaskForm):
    email = EmailField("New e-mail", validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)])
    password = PasswordField("Current password", validators=[InputRequired(), Length(max=256)])


class ActionForm(FlaskForm):
    """A bare form carrying only the CSRF token, for POST buttons (delete, restore, log out)."""
