"""The knowledge-base article form of the console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from agents_ui.forms import ConsoleForm

STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "archived": _l("Archived")}
VISIBILITY_LABELS = {
    "internal": _l("Internal (agents only)"),
    "public": _l("Public (help center)"),
}
LOCALE_LABELS = {"fr": "Français", "en": "English"}


class ArticleForm(ConsoleForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    body = TextAreaField(
        _l("Text (Markdown)"),
        validators=[Length(max=200_000)],
        render_kw={"rows": 16, "spellcheck": "true"},
    )
    locale = SelectField(
        _l("Language"), choices=[SelectChoice(k, v) for k, v in LOCALE_LABELS.items()]
    )
    status = SelectField(
        _l("Status"), choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()]
    )
    visibility = SelectField(
        _l("Visibility"), choices=[SelectChoice(k, v) for k, v in VISIBILITY_LABELS.items()]
    )
    categories = SelectMultipleField(_l("Categories"), validators=[Optional()])
    tags = StringField(
        _l("Tags (comma-separated)"),
        validators=[Length(max=500)],
        render_kw={"autocomplete": "off"},
    )
    note = StringField(_l("What changed (for the history)"), validators=[Length(max=250)])
    translation_of = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def __init__(self, *args: object, categories: list[tuple[str, str]], **kwargs: object) -> None:
        kwargs.setdefault("prefix", "article")
        super().__init__(*args, **kwargs)
        self.categories.choices = [SelectChoice(slug, name) for slug, name in categories]
