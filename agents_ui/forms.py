"""The console's forms. Flask-WTF adds the CSRF token to each one that is posted."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from babel.support import NullTranslations, Translations
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Length, Regexp

from agents_ui import labels
from agents_ui.phone_state import BREAK_CHOICES, BREAK_REASON, DISPOSITION
from helpdesk.tickets.workflow import Priority, Status

# Each language is named in its own language, so anyone can find theirs.
LOCALE_CHOICES = [SelectChoice("en", "English"), SelectChoice("fr", "Français")]
COMMENT_MAX = 20000
WRAP_UP_NOTES_MAX = 10000  # as the calls API accepts


def timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [SelectChoice(z, z.replace("_", " ")) for z in zones]


@lru_cache(maxsize=16)
def wtforms_messages(locale: str) -> NullTranslations:
    """WTForms' own messages ("This field is required.") in `locale`. Flask-WTF reads them
    from their file on every request that builds a form (the phone panel's accept, every
    wrap-up); they do not change while the process runs."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


class _Messages:
    """WTForms' messages in the language of the moment they are worded (a page may validate
    its form in the language of its address, `force_locale`), read once per language."""

    @staticmethod
    def _now() -> NullTranslations:
        return wtforms_messages(str(get_locale() or "en"))

    def gettext(self, string: str) -> str:
        return self._now().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._now().ngettext(singular, plural, n)


_MESSAGES = _Messages()


class ConsoleForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type hints
    """Base of the console's forms (CSRF-protected through Flask-WTF)."""

    class Meta(FlaskForm.Meta):  # type: ignore[misc]
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _MESSAGES


class LoginForm(ConsoleForm):
    email = StringField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={
            "type": "email",
            "autocomplete": "username",
            "autofocus": True,
            "spellcheck": "false",
        },
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ActionForm(ConsoleForm):
    """A form with no fields: a button that posts (log out), carrying only the CSRF token."""


class LanguageForm(ConsoleForm):
    """The language switch on the sign-in page, before anyone is known."""

    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    submit = SubmitField(_l("Change"))


class SettingsForm(ConsoleForm):
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    timezone = SelectField(_l("Time zone"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ReplyForm(ConsoleForm):
    body = TextAreaField(
        _l("Message"), validators=[DataRequired(), Length(max=COMMENT_MAX)], render_kw={"rows": 5}
    )
    visibility = RadioField(
        _l("Send as"),
        default="public",
        choices=[
            SelectChoice("public", _l("Public reply (the customer sees it)")),
            SelectChoice("internal", _l("Internal note (agents only)")),
        ],
    )
    status = SelectField(_l("Then set status to"), default="")
    # Checked by helpdesk.mail.uploads (count, size, sniffed type), not by the form.
    files = MultipleFileField(_l("Attach files"))
    # The macro whose text was inserted: its changes are made with the reply (macro_picker).
    macro_id = HiddenField(validators=[Regexp(r"^\d{0,9}$")])
    submit = SubmitField(_l("Send"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "reply")
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice("", _l("(leave unchanged)")),
            *(SelectChoice(s.value, labels.STATUS[s]) for s in Status),
        ]


class PropertiesForm(ConsoleForm):
    status = SelectField(_l("Status"))
    priority = SelectField(_l("Priority"))
    assignee = SelectField(_l("Assignee"))
    group = SelectField(_l("Group"))
    submit = SubmitField(_l("Update"))

    def __init__(
        self,
        *args: object,
        assignees: list[tuple[str, str]],
        groups: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        """`assignees` and `groups` are (id, name) pairs: the menus depend on the database."""
        kwargs.setdefault("prefix", "props")
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(s.value, labels.STATUS[s]) for s in Status]
        self.priority.choices = [SelectChoice(p.value, labels.PRIORITY[p]) for p in Priority]
        self.assignee.choices = [
            SelectChoice("", _l("Unassigned")),
            *(SelectChoice(value, name) for value, name in assignees),
        ]
        self.group.choices = [
            SelectChoice("", _l("No group")),
            *(SelectChoice(value, name) for value, name in groups),
        ]


# -- the phone panel and the simulator -------------------------------------------------------


class PresenceForm(ConsoleForm):
    """Available, a break (with its reason) or offline; `next` is the page to go back to."""

    state = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("available", _l("Available")),
            SelectChoice("break", _l("Break")),
            SelectChoice("offline", _l("Offline")),
        ],
        validators=[DataRequired()],
    )
    reason = SelectField(_l("Break reason"), default="pause")
    next = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice(code, BREAK_REASON[code]) for code in BREAK_CHOICES]


class PhoneActionForm(ConsoleForm):
    """A button that posts (accept, decline), and the page to go back to without JavaScript."""

    next = HiddenField()


class WrapUpForm(ConsoleForm):
    disposition = SelectField(
        _l("Disposition"), validators=[DataRequired(_l("Choose how the call ended."))]
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=WRAP_UP_NOTES_MAX)])
    next = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.disposition.choices = [
            SelectChoice("", _l("Choose…")),
            *(SelectChoice(code, text) for code, text in DISPOSITION.items()),
        ]


class DialForm(ConsoleForm):
    """Click-to-call: the number to dial."""

    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=40)])
    next = HiddenField()


class SimCallForm(ConsoleForm):
    """A simulated customer calls: a known customer's number, or any number typed in."""

    known = SelectField(_l("Customer"), default="", validate_choice=False)
    number = StringField(_l("Or another number"), validators=[Length(max=32)])
    digits = StringField(
        _l("Keys to press"),
        validators=[
            Length(max=64),
            Regexp(r"^[0-9*#, ]*$", message=_l("Only the keys 0-9, * and #.")),
        ],
    )

    def caller(self) -> str:
        return (self.number.data or "").strip() or (self.known.data or "").strip()


class DigitsForm(ConsoleForm):
    digits = StringField(
        _l("Keys"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[0-9*#]+$", message=_l("Only the keys 0-9, * and #.")),
        ],
    )


# -- the caller screen ----------------------------------------------------------------------------


class CallTicketForm(ConsoleForm):
    """A new ticket about the call, assigned to the agent who took it."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("What the caller needs"), validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 3}
    )
    priority = SelectField(_l("Priority"), default=Priority.NORMAL.value)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)
        self.priority.choices = [SelectChoice(p.value, labels.PRIORITY[p]) for p in Priority]


class CallLinkTicketForm(ConsoleForm):
    """The call is about one of the caller's open tickets: a note, and perhaps a new status."""

    ticket_id = SelectField(
        _l("Ticket"), validators=[DataRequired(_l("Choose a ticket."))], validate_choice=False
    )
    note = TextAreaField(
        _l("Note for the ticket"), validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 3}
    )
    status = SelectField(_l("Then set status to"), default="")

    def __init__(self, *args: object, tickets: list[tuple[str, str]], **kwargs: object) -> None:
        kwargs.setdefault("prefix", "link")
        super().__init__(*args, **kwargs)
        self.ticket_id.choices = [SelectChoice(value, text) for value, text in tickets]
        self.status.choices = [
            SelectChoice("", _l("(leave unchanged)")),
            *(SelectChoice(s.value, labels.STATUS[s]) for s in Status if s is not Status.NEW),
        ]


class CallerForm(ConsoleForm):
    """An unknown caller becomes a customer, with the number they call from."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "off"}
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, text) for code, text in labels.LANGUAGES.items()],
    )
    kind = SelectField(
        _l("Kind"),
        default="person",
        choices=[SelectChoice(code, text) for code, text in labels.CUSTOMER_KIND.items()],
    )
    email = StringField(_l("E-mail (optional)"), validators=[Length(max=254)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "caller")
        super().__init__(*args, **kwargs)


class LinkCallerForm(ConsoleForm):
    """The caller is an existing customer: their record gets this number."""

    customer_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,12}$")])


class SmsReplyForm(ConsoleForm):
    """A reply in an SMS conversation: sent as a text (the ticket's public reply)."""

    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=1600)],
        render_kw={"rows": 3, "maxlength": 1600},
    )
