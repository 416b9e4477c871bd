"""The public page a campaign e-mail's unsubscribe link opens: a button to confirm (a mail
scanner that follows every link must not unsubscribe anyone), then "no more such e-mails".

The address is in the link's signed token (as a keyed hash), never in the page's form. Mail
clients that offer one-click unsubscribe (RFC 8058, the `List-Unsubscribe-Post` header) POST
`List-Unsubscribe=One-Click` to the same address without a session or CSRF token: that POST is
taken as the confirmation, since only the holder of the e-mail has the signed link.

Nobody is signed in, so the request audit (which records staff's acts) does not see it: the
view writes its own audit entry, in the same transaction as the opt-out."""

from __future__ import annotations

from flask import abort, g, render_template, request
from flask.typing import ResponseReturnValue

from agents_ui.blueprint import bp
from agents_ui.forms import ActionForm
from helpdesk.audit import service as audit
from helpdesk.consent import unsubscribe
from helpdesk.extensions import csrf, db


def _token(token: str) -> unsubscribe.Unsubscribe:
    lang = request.args.get("lang")
    if lang in ("en", "fr"):
        g.page_locale = lang
    found = unsubscribe.read_token(token)
    if found is None:
        abort(404)
    return found


def _page(outcome: str, status: int = 200) -> ResponseReturnValue:
    return render_template("consent/unsubscribe.html", outcome=outcome, form=ActionForm()), status


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    _token(token)
    return _page("ask")


@csrf.exempt
@bp.post("/unsubscribe/<token>")
def unsubscribe_confirm(token: str) -> ResponseReturnValue:
    found = _token(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not ActionForm().validate_on_submit():
        abort(400)
    entry = unsubscribe.record_email_opt_out(
        db.session, key=found.key, source="link", campaign_id=found.campaign_id
    )
    audit.record(
        session=db.session,
        action="consent.email_unsubscribe",
        actor=None,
        target_type="email_opt_out",
        target_id=entry.id,
        details={"campaign_id": found.campaign_id, "one_click": one_click},
        ip=request.remote_addr or "",
        request_id=str(g.get("request_id") or ""),
        channel="public",
        commit=False,
    )
    db.session.commit()
    return _page("done")
