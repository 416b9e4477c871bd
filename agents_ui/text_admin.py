"""The fixed texts sent to customers, reworded by administrators: every text in French and
English side by side, the placeholders it must keep (checked), an SMS's segment count, and a way
back to the code's default. Each change is written to the audit log (`texts.update`)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

# Imported for their registrations: each declares the texts it sends (helpdesk.texts.catalog).
import helpdesk.mail.inbound
import helpdesk.portal.links
import helpdesk.surveys.texts  # noqa: F401
import telephony.sms_text
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.texts import service
from helpdesk.texts.catalog import CATALOG, GROUPS, LANGUAGES, Entry, Problem


def group_titles() -> dict[str, str]:
    return {
        "sms": _("SMS"),
        "email": _("E-mail"),
        "portal": _("Customer portal"),
        "surveys": _("Surveys"),
    }


def text_titles() -> dict[str, str]:
    return {
        "sms.ack": _("Acknowledgement of a new conversation"),
        "sms.stopped": _("Answer to STOP"),
        "sms.started": _("Answer to START"),
        "sms.help": _("Answer to HELP"),
        "sms.status": _("Answer to STATUS (ticket found)"),
        "sms.status_unknown": _("Answer to STATUS (no such ticket)"),
        "email.ack": _("Automatic acknowledgement of an e-mail"),
        "portal.mail_subject": _("Sign-in link: e-mail subject"),
        "portal.mail": _("Sign-in link: e-mail"),
        "portal.sms": _("Sign-in link: SMS"),
        "surveys.mail_subject": _("Survey invitation: e-mail subject"),
        "surveys.mail_ticket": _("Survey invitation after a ticket: e-mail"),
        "surveys.mail_call": _("Survey invitation after a call: e-mail"),
        "surveys.sms_ticket": _("Survey invitation after a ticket: SMS"),
        "surveys.sms_call": _("Survey invitation after a call: SMS"),
        "surveys.sms_thanks": _("Thanks for a survey answer: SMS"),
    }


def language_names() -> dict[str, str]:
    return {"fr": _("French"), "en": _("English")}


def problem_text(problem: Problem) -> str:
    names = ", ".join("{" + name + "}" for name in problem.names)
    if problem.kind == "missing":
        return str(_("This text must keep the placeholder %(names)s.", names=names))
    if problem.kind == "unknown":
        return str(
            _("Unknown placeholder %(names)s: this text can only use the ones listed.", names=names)
        )
    if problem.kind == "malformed":
        return str(_("Braces mark placeholders such as {reference}; write {{ and }} for a brace."))
    if problem.kind == "multiline":
        return str(_("A subject is one line."))
    if problem.kind == "too_long":
        return str(_("This text is too long."))
    return str(_("This text cannot be empty."))


def _entry(key: str) -> Entry:
    entry = CATALOG.get(key)
    if entry is None:
        abort(404)
    return entry


def _segments(entry: Entry, text: str) -> str:
    """The words of the SMS reply box's meter (static/sms_meter.js updates them as one types)."""
    if not entry.sms:
        return ""
    cost = telephony.sms_text.segments(text)
    if cost.encoding == "GSM-7":
        label = _("%(chars)s characters, %(segments)s SMS (GSM-7)", chars="{c}", segments="{s}")
    else:
        label = _(
            "%(chars)s characters, %(segments)s SMS (Unicode: accents or emoji outside GSM-7 "
            "shorten each SMS to 70 characters)",
            chars="{c}",
            segments="{s}",
        )
    return str(label).replace("{c}", str(cost.characters)).replace("{s}", str(cost.count))


def _page(
    edited: str = "", values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    changes = service.last_changes(db.session)
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for group in GROUPS:
        rows = []
        for entry in sorted((e for e in CATALOG.values() if e.group == group), key=lambda e: e.key):
            current = {lang: service.wording(db.session, entry.key, lang) for lang in LANGUAGES}
            if entry.key == edited and values is not None:
                current = values
            rows.append(
                {
                    "entry": entry,
                    "values": current,
                    "segments": {lang: _segments(entry, current[lang]) for lang in LANGUAGES},
                    "changed": changes.get(entry.key),
                    "errors": (errors or {}) if entry.key == edited else {},
                }
            )
        groups.append((group, rows))
    return {
        "groups": groups,
        "group_titles": group_titles(),
        "titles": text_titles(),
        "languages": language_names(),
        "form": ActionForm(),
    }


@bp.get("/admin/texts")
@role_required(*permissions.ADMINISTER)
def admin_texts() -> ResponseReturnValue:
    return render_template("admin/texts.html", **_page())


@bp.post("/admin/texts/<key>")
@role_required(*permissions.ADMINISTER)
def admin_text_update(key: str) -> ResponseReturnValue:
    entry = _entry(key)
    if not ActionForm().validate_on_submit():
        abort(400)
    values = {lang: request.form.get(lang, "").replace("\r\n", "\n") for lang in LANGUAGES}
    try:
        changed = service.save(
            db.session, entry=entry, texts=values, actor=current_user._get_current_object()
        )
    except service.Invalid as refused:
        db.session.rollback()
        errors = {lang: problem_text(p) for lang, p in refused.problems.items()}
        return render_template("admin/texts.html", **_page(key, values, errors)), 422
    audit_details({"key": key, "languages": changed, **{lang: values[lang] for lang in changed}})
    flash(_("Text saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("console.admin_texts") + f"#text-{key.replace('.', '-')}")


@bp.post("/admin/texts/<key>/reset")
@role_required(*permissions.ADMINISTER)
def admin_text_reset(key: str) -> Response:
    entry = _entry(key)
    if ActionForm().validate_on_submit():
        removed = service.reset(db.session, entry=entry)
        audit_details({"key": key, "reset": True, "changed": removed})
        flash(_("Back to the default text."), "success")
    return redirect(url_for("console.admin_texts") + f"#text-{key.replace('.', '-')}")
