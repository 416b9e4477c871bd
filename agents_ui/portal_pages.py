"""The customer portal under /portal: sign-in by one-time link, "My requests", a request's public
conversation with a reply box, and a new request. In the customer's language (French or English),
which they can switch.

Every page is public as far as the staff's access table goes: the portal's own check
(`portal_session.customer_required`) lets in only a live portal session, and each request is
looked up with the customer's id, so another customer's ticket is a 404.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from agents_ui.blueprint import bp
from agents_ui.forms import ActionForm, LanguageForm
from agents_ui.portal_forms import NewRequestForm, ReplyForm, SignInForm
from agents_ui.portal_session import (
    COOKIE,
    client_address,
    close_session,
    current,
    customer_required,
    locale,
    open_session,
    within,
)
from helpdesk.errors import APIError, NotFound
from helpdesk.extensions import db
from helpdesk.portal import links, service, tokens
from helpdesk.tickets.workflow import Status

# What a customer reads of a status: "on hold" is the team's business, and "pending" means the
# team waits for them.
CUSTOMER_STATUS = {
    Status.NEW: _l("Received"),
    Status.OPEN: _l("In progress"),
    Status.ON_HOLD: _l("In progress"),
    Status.PENDING: _l("Awaiting your reply"),
    Status.SOLVED: _l("Solved"),
    Status.CLOSED: _l("Closed"),
}


def customer_status(status: Status) -> str:
    return str(CUSTOMER_STATUS[status])


@bp.before_request
def _portal_locale() -> None:
    """Portal pages, and the errors of their forms, in the customer's language."""
    if (request.endpoint or "").startswith("console.portal_"):
        g.page_locale = locale()


def _page(template: str, status: int = 200, **context: object) -> Response:
    """A portal page in the customer's language, never kept in a shared cache."""
    lang = locale()
    with force_locale(lang):
        body = render_template(
            template,
            locale=lang,
            other_locale="en" if lang == "fr" else "fr",
            signed=current(),
            action_form=ActionForm(),
            customer_status=customer_status,
            **context,
        )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_for(secret: str, locale: str) -> str:
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return base + url_for("console.portal_link", secret=secret, lang=locale)


@bp.get("/portal")
def portal() -> ResponseReturnValue:
    if current() is not None:
        return redirect(url_for("console.portal_requests"))
    return _page("portal/sign_in.html", form=SignInForm())


@bp.post("/portal/sign-in")
def portal_sign_in() -> ResponseReturnValue:
    form = SignInForm()
    if not form.validate_on_submit():
        return _page("portal/sign_in.html", 400, form=form)
    address = tokens.read_address(
        form.address.data or "", current_app.config.get("HELPDESK_DEFAULT_REGION", "FR")
    )
    if address is None:
        return _page("portal/sign_in.html", 400, form=form, unreadable=True)
    ip = client_address()
    if not within("HELPDESK_PORTAL_IP_LIMIT", "20 per hour", "portal-link-ip", ip) or not within(
        "HELPDESK_PORTAL_ADDRESS_LIMIT", "3 per 15 minutes", "portal-link-address", address.value
    ):
        response = _page("portal/too_many.html", 429)
        response.headers["Retry-After"] = "900"
        return response
    asked = request.args.get("lang")
    outcome = links.request_link(
        db.session,
        address=address,
        locale=asked if asked in tokens.LOCALES else None,
        link_for=_link_for,
    )
    if outcome == links.UNAVAILABLE:
        return _page("portal/sign_in.html", 503, form=form, unavailable=address.channel)
    return _page("portal/link_sent.html", channel=address.channel)


@bp.get("/portal/link/<secret>")
def portal_link(secret: str) -> ResponseReturnValue:
    """A page with a button, not a sign-in on sight: mail scanners that open every link would
    otherwise spend it before the customer clicks."""
    if len(secret) > 100 or not links.link_is_live(db.session, secret=secret):
        return _page("portal/link_expired.html", 410)
    return _page("portal/link.html", secret=secret)


@bp.post("/portal/link/<secret>")
def portal_redeem(secret: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    key = links.redeem(db.session, secret=secret[:100])
    if key is None:
        return _page("portal/link_expired.html", 410)
    earlier = request.cookies.get(COOKIE, "")
    if earlier:  # this browser held another portal session: it ends with the new one
        service.sign_out(db.session, key=earlier)
    return open_session(redirect(url_for("console.portal_requests")), key)


@bp.post("/portal/sign-out")
def portal_sign_out() -> ResponseReturnValue:
    """Ends the session on the server, so a copy of the cookie is refused too."""
    if not ActionForm().validate_on_submit():
        abort(400)
    key = request.cookies.get(COOKIE, "")
    if key:
        service.sign_out(db.session, key=key)
    return close_session(redirect(url_for("console.portal", signed_out=1)))


@bp.post("/portal/language")
@customer_required
def portal_language() -> ResponseReturnValue:
    form = LanguageForm()
    signed = current()
    if form.validate_on_submit() and signed is not None:
        service.set_locale(db.session, signed=signed, locale=form.locale.data or "")
    return redirect(url_for("console.portal_requests"))


def _signed() -> service.Signed:
    signed = current()
    if signed is None:  # customer_required ran first
        abort(403)
    return signed


@bp.get("/portal/requests")
@customer_required
def portal_requests() -> ResponseReturnValue:
    signed = _signed()
    rows = service.own_tickets(db.session, customer_id=signed.customer.id)
    return _page("portal/requests.html", tickets=rows, language_form=_language_form(signed))


def _language_form(signed: service.Signed) -> LanguageForm:
    form = LanguageForm()
    form.locale.data = signed.locale
    return form


@bp.route("/portal/requests/new", methods=["GET", "POST"])
@customer_required
def portal_new_request() -> ResponseReturnValue:
    signed = _signed()
    form = NewRequestForm()
    if form.validate_on_submit():
        ticket = service.open_request(
            db.session,
            customer_id=signed.customer.id,
            subject=form.subject.data or "",
            description=form.description.data or "",
        )
        return redirect(url_for("console.portal_request", ticket_id=ticket.id, opened=1))
    return _page("portal/new.html", 400 if form.is_submitted() else 200, form=form)


def _request_page(ticket_id: int, form: ReplyForm, status: int = 200) -> Response:
    signed = _signed()
    try:
        ticket = service.own_ticket(db.session, customer_id=signed.customer.id, ticket_id=ticket_id)
    except NotFound:
        abort(404)
    return _page(
        "portal/request.html",
        status,
        ticket=ticket,
        comments=service.public_comments(db.session, ticket=ticket),
        form=form,
        closed=ticket.status is Status.CLOSED,
    )


@bp.get("/portal/requests/<int:ticket_id>")
@customer_required
def portal_request(ticket_id: int) -> ResponseReturnValue:
    return _request_page(ticket_id, ReplyForm())


@bp.post("/portal/requests/<int:ticket_id>/reply")
@customer_required
def portal_reply(ticket_id: int) -> ResponseReturnValue:
    signed = _signed()
    form = ReplyForm()
    if not form.validate_on_submit():
        return _request_page(ticket_id, form, 400)
    try:
        service.reply(
            db.session, customer_id=signed.customer.id, ticket_id=ticket_id, body=form.body.data
        )
    except NotFound:
        abort(404)
    except APIError as exc:  # the request was closed meanwhile: the page says so
        db.session.rollback()
        return _request_page(ticket_id, form, exc.status)
    return redirect(url_for("console.portal_request", ticket_id=ticket_id, replied=1) + "#last")
