"""The console's campaign pages: the list (with the agents' "Join" toggle), the settings form,
the members (imports and exclusions with their reasons), start/pause/finish, the report with its
CSV export, and the audit of attempts. Supervisors and administrators manage campaigns; agents
see the running call campaigns they may join.

The dialer panel (templates/campaigns/_dialer.html, static/campaign_dialer.js) shows the campaign
call the agent is on: script, customer, and the dispositions, each with a number key.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from agents_ui import campaign_wording, formatting
from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from agents_ui.value_labels import segment_name
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.auth.models import User
from helpdesk.campaigns import attempts, dispositions, lists, messages, results, service, waiting
from helpdesk.campaigns.compliance_labels import rule_label
from helpdesk.campaigns.models import Campaign, CampaignMember
from helpdesk.db import utcnow
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.value.segments import SEGMENTS
from telephony import adapters, campaign_dialer
from telephony.calls import wrap_up

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_SHOWN_REJECTED = 50
_IMPORT_KEY = "campaign_import"


def status_names() -> dict[str, str]:
    return {
        "draft": _("Draft"),
        "active": _("Running"),
        "paused": _("Paused"),
        "finished": _("Finished"),
    }


def channel_names() -> dict[str, str]:
    return {"call": _("Calls by agents"), "sms": _("SMS"), "email": _("E-mail")}


def kind_names() -> dict[str, str]:
    return {
        "marketing": _("Marketing (prospection)"),
        "service": _("Service information (not commercial)"),
    }


def basis_names() -> dict[str, str]:
    return {
        "consent": _("Consent of each person"),
        "contract": _("A contract in progress (offer related to it)"),
        "none": _("None (service information only)"),
    }


def outcome_names() -> dict[str, str]:
    return {
        "reached": _("Reached"),
        "converted": _("Converted"),
        "refused": _("Refused"),
        "retry": _("Try again"),
    }


def reason_names() -> dict[str, str]:
    """Why a member was left out or an attempt blocked, in words."""
    return {
        "ok": _("Allowed"),
        "erased": _("Customer erased"),
        "merged": _("Customer merged into another"),
        "no_number": _("No phone number"),
        "no_email": _("No e-mail address"),
        "do_not_call": _("On a do-not-call list"),
        "opted_out": _("Opted out of SMS (STOP)"),
        "unsubscribed": _("Unsubscribed from e-mails"),
        "no_consent": _("No consent recorded"),
        "no_contract": _("No current contract"),
        "outside_hours": _("Outside the permitted hours"),
        "weekend": _("Weekend"),
        "holiday": _("Public holiday"),
        "attempt_limit": _("Attempt limit reached"),
        "refused_recently": _("Refused recently"),
        "duplicate": _("Already on the list"),
        "bad_number": _("Not a valid phone number"),
        "bad_email": _("Not a valid e-mail address"),
        "bad_customer_id": _("Not a customer number"),
        "unknown_customer": _("No such customer"),
        "no_contact": _("No phone, e-mail or customer number"),
        "no_header": _("No header line naming the columns"),
        "too_many_lines": _("Too many lines"),
        waiting.RETRY_DELAY: _("Waiting for the retry delay after a call"),
    }


def callee_time(value: str | datetime | None, *, weekday: bool = False) -> str:
    """A time in the callee's own zone, as the console shows times (with the offset)."""
    return campaign_dialer.local_time_label(value, str(get_locale() or "en"), weekday=weekday)


def held_text(held: waiting.Held | None) -> str:
    """Why nobody is contacted now, in words: who waits, why, and the next possible contact
    ("21 people wait (outside the permitted hours: 13, weekend: 8). Next possible contact:
    Monday 09:00 (UTC+01:00) in the callee's time, ... for you.")."""
    if held is None or not held.total:
        return ""
    names = reason_names()
    reasons = ", ".join(
        _("%(reason)s: %(num)s", reason=names.get(code, code), num=num)
        for code, num in held.most_first()
    )
    text = ngettext(
        "%(num)d person waits (%(reasons)s).",
        "%(num)d people wait (%(reasons)s).",
        held.total,
        reasons=reasons,
    )
    if held.next_at is not None:
        yours = formatting.when(held.next_at)
        if held.next_local is not None:
            text += " " + _(
                "Next possible contact: %(local)s in the callee's time (%(yours)s for you).",
                local=callee_time(held.next_local, weekday=True),
                yours=yours,
            )
        else:
            text += " " + _("Next possible contact: %(yours)s.", yours=yours)
    return str(text)


def delivery_names() -> dict[str, str]:
    return {
        "blocked": _("Blocked"),
        "placed": _("Call placed"),
        "queued": _("Queued"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "opted_out": _("Opted out"),
    }


def disposition_labels(campaign: Campaign) -> dict[str, str]:
    """A campaign's disposition codes in the reader's language (the pages show no raw codes)."""
    lang = "fr" if str(get_locale() or "en").startswith("fr") else "en"
    return {d.code: d.label(lang) for d in dispositions.parse(campaign.dispositions)}


def _names() -> dict[str, Any]:
    return {
        "status_names": status_names(),
        "channel_names": channel_names(),
        "kind_names": kind_names(),
        "basis_names": basis_names(),
        "outcome_names": outcome_names(),
        "reason_names": reason_names(),
        "delivery_names": delivery_names(),
    }


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _supervises() -> bool:
    return bool(current_user.has_role(*permissions.SUPERVISE))


@bp.get("/campaigns")
@role_required(*permissions.STAFF)
def campaigns() -> ResponseReturnValue:
    user = me()
    found = service.all_campaigns(db.session)
    if not _supervises():
        found = [c for c in found if c.status == "active" and c.channel == "call"]
    figs = results.figures(db.session, found)
    now = utcnow()
    held = waiting.held(db.session, [c.id for c in found if c.status == "active"], now=now)
    return render_template(
        "campaigns/list.html",
        campaigns=found,
        figures=figs,
        held={cid: held_text(h) for cid, h in held.items()},
        hours_note=hours_note(),
        allowed_status=service.TRANSITIONS,
        joined=service.joined_ids(db.session, user_id=user.id),
        may_join={c.id: service.may_join(c, user) for c in found},
        supervises=_supervises(),
        **_names(),
    )


# -- the settings form -------------------------------------------------------------------------


def dispositions_text(items: list[dict[str, str]]) -> str:
    return "\n".join(
        f"{d['code']} | {d['label_en']} | {d['label_fr']} | {d['outcome']}" for d in items
    )


def parse_dispositions(text: str) -> list[dict[str, str]]:
    """One disposition a line: `code | English label | French label | outcome`."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + ["", "", "", ""]
        out.append(
            {"code": parts[0], "label_en": parts[1], "label_fr": parts[2], "outcome": parts[3]}
        )
    return out


def _time(raw: str, field: str, errors: dict[str, str]) -> time | None:
    if not raw.strip():
        return None
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = _("A time such as 10:00.")
        return None


def _int(raw: str, field: str, errors: dict[str, str]) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        errors[field] = _("A whole number.")
        return None


def _when(raw: str, field: str, errors: dict[str, str]) -> datetime | None:
    if not raw.strip():
        return None
    try:
        local = datetime.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = _("A date and time such as 2027-01-15T09:00.")
        return None
    zone = ZoneInfo(g.get("timezone") or "Europe/Paris")
    return (local if local.tzinfo else local.replace(tzinfo=zone)).astimezone(UTC)


def _form_values() -> tuple[dict[str, Any], dict[str, str]]:
    form = request.form
    errors: dict[str, str] = {}
    values: dict[str, Any] = {k: form.get(k, "").replace("\r\n", "\n") for k in service.TEXT_FIELDS}
    values["name"] = values["name"].strip()
    values["dispositions"] = parse_dispositions(form.get("dispositions", ""))
    values["window_start"] = _time(form.get("window_start", ""), "window_start", errors)
    values["window_end"] = _time(form.get("window_end", ""), "window_end", errors)
    values["max_attempts"] = _int(form.get("max_attempts", "3"), "max_attempts", errors)
    values["retry_delay_minutes"] = _int(
        form.get("retry_delay_minutes", "240"), "retry_delay_minutes", errors
    )
    values["starts_at"] = _when(form.get("starts_at", ""), "starts_at", errors)
    values["ends_at"] = _when(form.get("ends_at", ""), "ends_at", errors)
    return values, errors


def _local_input(at: datetime | None) -> str:
    if at is None:
        return ""
    zone = ZoneInfo(g.get("timezone") or "Europe/Paris")
    return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    shown["dispositions"] = dispositions_text(values.get("dispositions") or [])
    for k in ("window_start", "window_end"):
        shown[k] = values[k].strftime("%H:%M") if isinstance(values.get(k), time) else ""
    for k in ("starts_at", "ends_at"):
        shown[k] = _local_input(values[k]) if isinstance(values.get(k), datetime) else ""
    shown["skill"] = values.get("skill") or ""
    return shown


def _form_page(campaign: Campaign | None, values: dict[str, Any], errors: dict[str, str]) -> str:
    errors = campaign_wording.messages(errors)
    return render_template(
        "campaigns/form.html",
        campaign=campaign,
        values=_shown(values),
        errors=errors,
        disposition_errors=[
            (campaign_wording.field_name(k), v)
            for k, v in errors.items()
            if k == "dispositions" or k.startswith("dispositions.")
        ],
        placeholders=messages.PLACEHOLDERS,
        script_placeholders=messages.SCRIPT_PLACEHOLDERS,
        outcomes=dispositions.OUTCOMES,
        **_names(),
    )


@bp.get("/campaigns/new")
@role_required(*permissions.SUPERVISE)
def campaign_new() -> ResponseReturnValue:
    return _form_page(None, service.defaults() | {"name": ""}, {})


def _api_errors(exc: APIError, errors: dict[str, str]) -> dict[str, str]:
    out = dict(exc.fields or {})
    out.update(errors)
    if not out:
        out["form"] = exc.message
    return out


@bp.post("/campaigns")
@role_required(*permissions.SUPERVISE)
def campaign_create() -> ResponseReturnValue:
    values, errors = _form_values()
    problems = service.check_fields(values) if not errors else {}
    if errors or problems:
        return _form_page(None, values, {**problems, **errors}), 422
    try:
        campaign = service.create(db.session, actor=me(), **values)
    except APIError as exc:
        db.session.rollback()
        return _form_page(None, values, _api_errors(exc, errors)), 422
    audit_details({"name": campaign.name, "channel": campaign.channel, "kind": campaign.kind})
    flash(_("Campaign created as a draft. Add people to its list, then start it."), "success")
    return redirect(url_for("console.campaign_members", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/edit")
@role_required(*permissions.SUPERVISE)
def campaign_edit(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    values = {k: getattr(campaign, k) for k in service.EDITABLE}
    return _form_page(campaign, values, {})


@bp.post("/campaigns/<int:campaign_id>/edit")
@role_required(*permissions.SUPERVISE)
def campaign_update(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    values, errors = _form_values()
    if errors:
        return _form_page(campaign, values, errors), 422
    try:
        service.update(db.session, campaign, actor=me(), **values)
    except APIError as exc:
        db.session.rollback()
        return _form_page(campaign, values, _api_errors(exc, errors)), 422
    audit_details({"name": campaign.name})
    flash(_("Campaign saved."), "success")
    return redirect(url_for("console.campaigns"))


# -- status ------------------------------------------------------------------------------------


@bp.post("/campaigns/<int:campaign_id>/status")
@role_required(*permissions.SUPERVISE)
def campaign_status(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    status = request.form.get("status", "")
    before = campaign.status
    try:
        service.set_status(db.session, campaign, status=status, actor=me())
    except APIError as exc:
        db.session.rollback()
        if exc.code == "empty_list":
            flash(_empty_list_text(campaign), "error")
        else:
            flash(_("This campaign cannot change to that status."), "error")
        return redirect(url_for("console.campaigns"))
    audit_details({"from": before, "status": status})
    flash(_("Campaign status: %(status)s.", status=status_names()[status]), "success")
    return redirect(url_for("console.campaigns"))


def _empty_list_text(campaign: Campaign) -> str:
    """Why a campaign cannot start: nobody on the list, or everyone on it excluded (with the
    main reasons, most frequent first)."""
    excluded = service.exclusions(db.session, campaign)
    if not excluded:
        return str(_("The list has nobody to contact yet: add people first."))
    names = reason_names()
    reasons = ", ".join(
        _("%(reason)s: %(num)s", reason=names.get(code, code), num=num)
        for code, num in excluded[:3]
    )
    total = sum(num for _code, num in excluded)
    return str(
        ngettext(
            "Nobody on the list can be contacted: the %(num)d person on it is excluded "
            "(%(reasons)s).",
            "Nobody on the list can be contacted: all %(num)d people on it are excluded "
            "(%(reasons)s).",
            total,
            reasons=reasons,
        )
    )


# -- members -----------------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/members")
@role_required(*permissions.SUPERVISE)
def campaign_members(campaign_id: int) -> ResponseReturnValue:
    return _members_page(_campaign(campaign_id), report=session.pop(_IMPORT_KEY, None))


def _members_page(
    campaign: Campaign, *, report: dict[str, Any] | None = None, error: str = ""
) -> str:
    from helpdesk.saved_views import service as views

    shown = service.members(db.session, campaign)
    return render_template(
        "campaigns/members.html",
        campaign=campaign,
        members=shown,
        last_attempts=waiting.last_attempts(db.session, [m.id for m in shown]),
        held_text=held_text(waiting.held(db.session, [campaign.id], now=utcnow()).get(campaign.id)),
        hours_note=hours_note() if campaign.channel == "call" else "",
        callee_time=callee_time,
        disposition_labels=disposition_labels(campaign),
        figures=results.figures(db.session, [campaign])[campaign.id],
        report=report,
        error=error,
        segments=SEGMENTS,
        segment_name=segment_name,
        views=views.visible(db.session, user=me()),
        **_names(),
    )


@bp.post("/campaigns/<int:campaign_id>/members")
@role_required(*permissions.SUPERVISE)
def campaign_members_add(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    source = request.form.get("source", "")
    region = str(current_app.config.get("HELPDESK_DEFAULT_REGION") or "FR")
    rejected: list[lists.Rejected] = []
    try:
        if source == "csv":
            upload = request.files.get("file")
            raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
            if not raw or len(raw) > MAX_CSV_BYTES:
                return _members_page(campaign, error=_("Choose a CSV file of at most 5 MB.")), 422
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return _members_page(campaign, error=_("The file is not UTF-8 text.")), 422
            found, rejected = lists.parse_csv(text, region=region)
        elif source == "segment":
            found = service.candidates_from_segment(db.session, request.form.get("segment", ""))
        elif source == "view":
            view_id = request.form.get("view_id", "")
            if not view_id.isdigit():
                return _members_page(campaign, error=_("Choose a saved view.")), 422
            found = service.candidates_from_view(db.session, user=me(), view_id=int(view_id))
        else:
            abort(400)
        result = service.add_members(db.session, campaign, found, actor=me())
    except APIError as exc:
        db.session.rollback()
        return _members_page(campaign, error=exc.message), 422
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r.line)
    audit_details(
        {
            "source": source,
            "added": result.added,
            "excluded": result.excluded,
            "rejected": len(result.rejected),
        }
    )
    # Shown once on the page the browser is sent to: the line numbers and reasons, never the
    # values (the session cookie is signed, not encrypted).
    session[_IMPORT_KEY] = {
        "added": result.added,
        "excluded": result.excluded,
        "count": len(result.rejected),
        "rejected": [[r.line, r.reason] for r in result.rejected[:MAX_SHOWN_REJECTED]],
    }
    return redirect(url_for("console.campaign_members", campaign_id=campaign.id))


# -- joining, the dialer -----------------------------------------------------------------------


@bp.post("/campaigns/<int:campaign_id>/join")
@role_required(*permissions.STAFF)
def campaign_join(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    if request.form.get("joined") == "0":
        service.leave(db.session, campaign, user=me())
        flash(_("You left the campaign “%(name)s”.", name=campaign.name), "success")
    else:
        try:
            service.join(db.session, campaign, user=me())
        except APIError:
            db.session.rollback()
            flash(_("You cannot join this campaign (its skill, or it is not running)."), "error")
            return redirect(url_for("console.campaigns"))
        flash(
            _(
                "You joined “%(name)s”: its calls come to you when you are available.",
                name=campaign.name,
            ),
            "success",
        )
    return redirect(url_for("console.campaigns"))


@bp.post("/campaigns/dialer/next")
@role_required(*permissions.STAFF)
def campaign_dialer_next() -> ResponseReturnValue:
    """ "Call the next one now" (the periodic dialer does it by itself within seconds)."""
    outcome = campaign_dialer.offer_next(db.session, agent_id=me().id, gateway=adapters.gateway())
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {"placed": outcome.offer is not None, "reason": outcome.reason, "offer": outcome.offer}
        )
    if outcome.offer is None:
        why = dialer_reasons().get(outcome.reason, outcome.reason)
        if outcome.reason == campaign_dialer.NOBODY_DUE and (told := held_text(outcome.held)):
            why = f"{why} {told} {hours_note()}"
        flash(why, "error")
    return redirect(url_for("console.campaigns"))


def hours_note() -> str:
    return str(
        _(
            "Campaigns follow the callee's legal calling hours, even when the centre is open "
            "around the clock: at night, on weekends and on public holidays nobody is called."
        )
    )


def dialer_reasons() -> dict[str, str]:
    return {
        "not_free": _("Set yourself available (and finish any wrap-up) to get a campaign call."),
        "inbound_waiting": _("A customer is waiting in line: their call comes first."),
        "disposition_due": _("Record how your last campaign call went first."),
        "nobody_due": _("Nobody is due to be called now in the campaigns you joined."),
        "call_failed": _("The call could not be placed; try again."),
    }


@bp.post("/campaigns/attempts/<int:attempt_id>/disposition")
@role_required(*permissions.STAFF)
def campaign_disposition(attempt_id: int) -> ResponseReturnValue:
    """The agent's answer; the call's own wrap-up is ended with it when the call is over."""
    user = me()
    code = request.form.get("disposition", "")
    notes = request.form.get("notes", "")[:4000]
    try:
        attempt = attempts.get_attempt(db.session, attempt_id)
        attempts.record_disposition(
            db.session, attempt=attempt, code=code, notes=notes, actor=user, now=utcnow()
        )
    except APIError as exc:
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"ok": False, "message": exc.message}), exc.status
        flash(exc.message, "error")
        return redirect(request.referrer or url_for("console.campaigns"))
    if attempt.call_id is not None:
        try:
            wrap_up(
                db.session,
                user=user,
                call_id=attempt.call_id,
                disposition=None,
                notes=notes,
                done=True,
            )
        except APIError:
            db.session.rollback()  # the call goes on, or was wrapped up already
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": True})
    flash(_("Disposition recorded."), "success")
    return redirect(request.referrer or url_for("console.campaigns"))


@bp.get("/campaigns/dialer/current")
@role_required(*permissions.STAFF)
def campaign_dialer_current() -> ResponseReturnValue:
    """The campaign call the agent is on or must still give a disposition for (the panel asks
    once its live connection opens)."""
    return jsonify({"offer": campaign_dialer.current_offer(db.session, agent_id=me().id)})


def campaign_wallboard() -> list[dict[str, Any]]:
    """The running campaigns' figures, for the wallboard's panel."""
    running = service.all_campaigns(db.session, statuses=["active"])
    figs = results.figures(db.session, running)
    return [figs[c.id] for c in running]


@bp.context_processor
def _campaign_helpers() -> dict[str, Any]:
    return {"campaign_wallboard": campaign_wallboard}


# -- results -----------------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/report")
@role_required(*permissions.SUPERVISE)
def campaign_report(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    report = results.report(db.session, campaign)
    agents = _agent_names([r["agent_id"] for r in report["per_agent"]])
    return render_template(
        "campaigns/report.html",
        campaign=campaign,
        figures=results.figures(db.session, [campaign])[campaign.id],
        report=report,
        agents=agents,
        labels_of={d.code: d for d in dispositions.parse(campaign.dispositions)},
        **_names(),
    )


def _agent_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


@bp.get("/campaigns/<int:campaign_id>/report.csv")
@role_required(*permissions.SUPERVISE)
def campaign_report_csv(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    report = results.report(db.session, campaign)
    agents = _agent_names([r["agent_id"] for r in report["per_agent"]])
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "attempts", "blocked", "converted"])
    for code, n in sorted(report["per_disposition"].items()):
        w.writerow(["disposition", code or "(none yet)", n, "", ""])
    for reason, n in sorted(report["per_reason"].items()):
        w.writerow(["blocked", reason, "", n, ""])
    for row in report["per_agent"]:
        w.writerow(
            [
                "agent",
                agents.get(row["agent_id"], row["agent_id"]),
                row["attempts"],
                "",
                row["converted"],
            ]
        )
    for row in report["per_day"]:
        w.writerow(["day", row["day"], row["attempts"], row["blocked"], ""])
    audit_details({"campaign_id": campaign.id})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}.csv"'},
    )


@bp.get("/campaigns/<int:campaign_id>/audit")
@role_required(*permissions.SUPERVISE)
def campaign_audit(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    before = request.args.get("before", "")
    found = attempts.attempts_of(
        db.session, campaign, before_id=int(before) if before.isdigit() else None, limit=100
    )
    agents = _agent_names(sorted({a.agent_id for a in found if a.agent_id is not None}))
    member_ids = sorted({a.member_id for a in found})
    members = (
        {
            m.id: m
            for m in db.session.scalars(
                select(CampaignMember).where(CampaignMember.id.in_(member_ids))
            )
        }
        if member_ids
        else {}
    )
    last = waiting.last_attempts(db.session, member_ids)
    return render_template(
        "campaigns/audit.html",
        campaign=campaign,
        attempts=found,
        rule_label=rule_label,
        # A blocked attempt's rescheduling: the member's next attempt, shown on their last
        # blocked attempt (an older one was followed by another attempt).
        next_attempt={
            a.id: members[a.member_id].next_attempt_at
            for a in found
            if not a.allowed
            and last.get(a.member_id) is a
            and a.member_id in members
            and members[a.member_id].status == "pending"
            and members[a.member_id].next_attempt_at is not None
        },
        callee_time=callee_time,
        disposition_labels=disposition_labels(campaign),
        agents=agents,
        next_before=found[-1].id if len(found) == 100 else None,
        **_names(),
    )
