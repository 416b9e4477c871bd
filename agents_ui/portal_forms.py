"""The customer portal's forms and the contact form (CSRF-protected through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from agents_ui.forms import ConsoleForm
from helpdesk.portal import contact, service


class SignInForm(ConsoleForm):
    address = StringField(
        _l("E-mail address or mobile number"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True, "spellcheck": "false"},
    )
    submit = SubmitField(_l("Send me a sign-in link"))


class ReplyForm(ConsoleForm):
    body = TextAreaField(
        _l("Your reply"), validators=[DataRequired(), Length(max=service.BODY_MAX)]
    )
    submit = SubmitField(_l("Send the reply"))


class NewRequestForm(ConsoleForm):
    subject = StringField(
        _l("Subject"), validators=[DataRequired(), Length(max=service.SUBJECT_MAX)]
    )
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=service.BODY_MAX)]
    )
    submit = SubmitField(_l("Send the request"))


class ContactForm(ConsoleForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=contact.NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        _l("Your e-mail address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email", "spellcheck": "false"},
    )
    subject = StringField(
        _l("Subject"), validators=[DataRequired(), Length(max=contact.SUBJECT_MAX)]
    )
    message = TextAreaField(
        _l("Message"), validators=[DataRequired(), Length(max=contact.MESSAGE_MAX)]
    )
    # Left empty by people (hidden from them and from screen readers); bots fill every field.
    website = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    submit = SubmitField(_l("Send"))
