"""Consents and the do-not-call list in the console.

Administrators keep the do-not-call list (`/admin/do-not-call`): import an opposition list, count
entries by source, look a number up, add or remove staff's own entries. Agents record a
customer's consent to marketing on the customer page, with a proof note, and withdraw it, or put
the customer's numbers on the list when they ask not to be called. Every change is audited.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.auth.models import User
from helpdesk.consent import lists, unsubscribe
from helpdesk.consent import service as consent
from helpdesk.consent.models import (
    CHANNELS,
    DNC_CHANNELS,
    DNC_SOURCES,
    STAFF_CONSENT_SOURCES,
    ContactConsent,
)
from helpdesk.customers import service as customers
from helpdesk.errors import APIError, ValidationFailed
from helpdesk.extensions import db
from telephony.models import Call

UPLOAD_MAX = 20 * 1024 * 1024
REJECTED_SHOWN = 10  # lines shown after an upload (they ride in the session cookie);
# the command line prints them all


def channel_names() -> dict[str, str]:
    return {"call": _("Phone calls"), "sms": _("SMS"), "email": _("E-mail")}


def source_names() -> dict[str, str]:
    return {
        "bloctel": _("Opposition list (Bloctel)"),
        "customer": _("The customer's request"),
        "manual": _("Added by staff"),
        "agent": _("recorded in the console"),
        "call": _("during a call"),
        "paper": _("on paper"),
        "email": _("by e-mail"),
        "other": _("another way (see the proof)"),
        "portal": _("Customer portal"),
        "import": _("Import"),
        "form": _("Web form"),
    }


def _region() -> str:
    return str(current_app.config.get("HELPDESK_DEFAULT_REGION") or "FR")


def _errors(exc: APIError) -> str:
    return "; ".join((exc.fields or {}).values()) or exc.message


def _names(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


# --- the customer page's section -----------------------------------------------------------


def on_call_with(user_id: int, customer_id: int) -> bool:
    """Whether the user is answering a call of this customer now (what makes "during a call"
    the default way a consent was given; otherwise the recorder must say how)."""
    found = db.session.scalar(
        select(Call.id)
        .where(
            Call.agent_id == user_id,
            Call.customer_id == customer_id,
            Call.ended_at.is_(None),
            Call.status == "in-progress",
        )
        .limit(1)
    )
    return found is not None


def consent_section(customer_id: int) -> dict[str, Any]:
    """What the customer page shows: consents (with who and when), do-not-call entries."""
    rows: list[ContactConsent] = consent.consents_of(db.session, customer_id=customer_id)
    record = customers.get(db.session, customer_id)
    numbers = [p.e164 for p in record.phones]
    listed = [e for n in numbers for e in consent.lookup_do_not_call(db.session, number=n)]
    addresses = [e.email for e in record.emails]
    people = _names({c.recorded_by_id for c in rows} | {c.withdrawn_by_id for c in rows})
    active = {c.channel for c in rows if c.withdrawn_at is None}
    return {
        "consents": rows,
        "consent_people": people,
        "consent_free_channels": [c for c in CHANNELS if c not in active],
        "consent_channels": channel_names(),
        "consent_sources": source_names(),
        "consent_ways": STAFF_CONSENT_SOURCES,
        "consent_default_way": "call" if on_call_with(current_user.id, customer_id) else None,
        "do_not_call": listed,
        # Shown so that staff know why campaign e-mails skip them (and that an e-mail consent
        # recorded now lifts it).
        "email_unsubscribed": sorted(unsubscribe.opted_out(db.session, addresses)),
        "consent_form": ActionForm(),
    }


@bp.post("/customers/<int:customer_id>/consents")
@login_required
def customer_consent_record(customer_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    channel = request.form.get("channel", "")
    source = request.form.get("source", "")
    try:
        if source not in STAFF_CONSENT_SOURCES:
            raise ValidationFailed(
                "invalid source", fields={"source": _("say how the customer gave it")}
            )
        saved = consent.record_consent(
            db.session,
            customer_id=customer_id,
            channel=channel,
            source=source,
            proof=request.form.get("proof", ""),
            by_user_id=current_user.id,
        )
    except APIError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(_("The consent was not recorded: %(why)s", why=_errors(exc)), "error")
        return redirect(url_for("console.customer", customer_id=customer_id) + "#consents")
    db.session.commit()
    audit_details({"channel": channel, "source": source, "consent_id": saved.id})
    flash(_("Consent recorded."), "success")
    return redirect(url_for("console.customer", customer_id=customer_id) + "#consents")


@bp.post("/customers/<int:customer_id>/consents/<int:consent_id>/withdraw")
@login_required
def customer_consent_withdraw(customer_id: int, consent_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db.session.get(ContactConsent, consent_id)
    if row is None or row.customer_id != customer_id:
        abort(404)
    consent.withdraw_consent(db.session, consent_id=consent_id, by_user_id=current_user.id)
    db.session.commit()
    audit_details({"channel": row.channel, "consent_id": consent_id})
    flash(_("Consent withdrawn."), "success")
    return redirect(url_for("console.customer", customer_id=customer_id) + "#consents")


@bp.post("/customers/<int:customer_id>/do-not-call")
@login_required
def customer_do_not_call(customer_id: int) -> Response:
    """The customer asks not to be called (or texted): every number of theirs goes on the list."""
    if not ActionForm().validate_on_submit():
        abort(400)
    record = customers.get(db.session, customer_id)
    channels = [c for c in request.form.getlist("channels") if c in DNC_CHANNELS] or ["call"]
    for phone in record.phones:
        consent.add_do_not_call(
            db.session,
            number=phone.e164,
            source="customer",
            channels=channels,
            by_user_id=current_user.id,
        )
    db.session.commit()
    audit_details({"channels": channels, "numbers": len(record.phones)})
    if record.phones:
        flash(_("The customer's numbers are on the do-not-call list."), "success")
    else:
        flash(_("This customer has no phone number."), "warning")
    return redirect(url_for("console.customer", customer_id=customer_id) + "#consents")


# --- the administrators' page --------------------------------------------------------------


def _admin_page(**extra: Any) -> dict[str, Any]:
    return {
        "counts": consent.counts_by_source(db.session),
        "sources": source_names(),
        "channels": channel_names(),
        "recent": consent.recent_entries(db.session, sources=("manual", "customer")),
        "form": ActionForm(),
        "dnc_sources": DNC_SOURCES,
        "dnc_channels": DNC_CHANNELS,
        **extra,
    }


@bp.get("/admin/do-not-call")
@role_required(*permissions.ADMINISTER)
def admin_do_not_call() -> ResponseReturnValue:
    raw = request.args.get("number", "").strip()[:40]
    found: list[Any] | None = None
    looked_up = ""
    lookup_error = ""
    if raw:
        try:
            looked_up = consent.normalise_number(raw, _region())
        except APIError as exc:
            lookup_error = _errors(exc)
        else:
            found = consent.lookup_do_not_call(db.session, number=looked_up)
    return render_template(
        "admin/do_not_call.html",
        **_admin_page(number=raw, looked_up=looked_up, found=found, lookup_error=lookup_error),
    )


@bp.post("/admin/do-not-call/import")
@role_required(*permissions.ADMINISTER)
def admin_do_not_call_import() -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    source = request.form.get("source", "bloctel")
    replace = request.form.get("replace") == "1"
    upload = request.files.get("file")
    if source not in DNC_SOURCES or upload is None or not upload.filename:
        flash(_("Choose a file and a source."), "error")
        return redirect(url_for("console.admin_do_not_call"))
    data = upload.stream.read(UPLOAD_MAX + 1)
    if len(data) > UPLOAD_MAX:
        flash(_("This file is too large: import it with the command line."), "error")
        return redirect(url_for("console.admin_do_not_call"))
    parsed = lists.parse(data.decode("utf-8-sig", errors="replace"), _region())
    result = consent.import_do_not_call(
        db.session, source=source, numbers=parsed.numbers, replace=replace
    )
    result.rejected = list(parsed.rejected)
    db.session.commit()
    audit_details({"source": source, "replace": replace, **result.counts()})
    flash(
        _(
            "%(added)s added, %(already)s already listed, %(removed)s removed, "
            "%(rejected)s rejected.",
            added=format_number(result.added),
            already=format_number(result.already),
            removed=format_number(result.removed),
            rejected=format_number(len(parsed.rejected)),
        ),
        "success",
    )
    for rejected in parsed.rejected[:REJECTED_SHOWN]:
        flash(
            _(
                "Line %(line)s: %(text)s — %(reason)s",
                line=rejected.line,
                text=rejected.text,
                reason=rejected.reason,
            ),
            "warning",
        )
    return redirect(url_for("console.admin_do_not_call"))


@bp.post("/admin/do-not-call")
@role_required(*permissions.ADMINISTER)
def admin_do_not_call_add() -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        entry = consent.add_do_not_call(
            db.session,
            number=request.form.get("number", ""),
            source="manual",
            channels=request.form.getlist("channels") or ["call"],
            note=request.form.get("note", ""),
            by_user_id=current_user.id,
            default_region=_region(),
        )
    except APIError as exc:
        db.session.rollback()
        flash(_("The number was not added: %(why)s", why=_errors(exc)), "error")
        return redirect(url_for("console.admin_do_not_call"))
    db.session.commit()
    audit_target(entry.id)
    audit_details({"channels": entry.channels})
    flash(_("%(number)s is on the do-not-call list.", number=entry.number), "success")
    return redirect(url_for("console.admin_do_not_call", number=entry.number))


@bp.post("/admin/do-not-call/<int:entry_id>/delete")
@role_required(*permissions.ADMINISTER)
def admin_do_not_call_remove(entry_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        entry = consent.remove_do_not_call(db.session, entry_id=entry_id)
    except APIError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(_("The entry was not removed: %(why)s", why=_errors(exc)), "error")
        return redirect(url_for("console.admin_do_not_call"))
    db.session.commit()
    audit_details({"source": entry.source})
    flash(_("%(number)s was removed from the list.", number=entry.number), "success")
    return redirect(url_for("console.admin_do_not_call"))
