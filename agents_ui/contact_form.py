"""The help center's contact form: anyone may send a request without an account.

A hidden field that people leave empty catches the simplest bots; a limit per client address
catches the rest. The page names the reference only once the ticket is really saved.
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
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from agents_ui.blueprint import bp
from agents_ui.portal_forms import ContactForm
from agents_ui.portal_session import client_address, within
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.portal import contact
from helpdesk.portal.tokens import LOCALES

RECEIVED = "contact_received"  # the reference of the request this browser has just sent


def _check(locale: str) -> None:
    if locale not in LOCALES:
        abort(404)
    g.page_locale = locale  # the page and its form errors in the language of its address


def _page(locale: str, template: str, status: int = 200, **context: object) -> Response:
    with force_locale(locale):
        body = render_template(
            template, locale=locale, other_locale="en" if locale == "fr" else "fr", **context
        )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/help/<locale>/contact")
def help_contact(locale: str) -> ResponseReturnValue:
    _check(locale)
    return _page(locale, "help/contact.html", form=ContactForm())


@bp.post("/help/<locale>/contact")
def help_contact_send(locale: str) -> ResponseReturnValue:
    _check(locale)
    form = ContactForm()
    if not form.validate_on_submit():
        return _page(locale, "help/contact.html", 400, form=form)
    if form.website.data:
        return _page(locale, "help/contact.html", 400, form=form, refused=True)
    if not within("HELPDESK_CONTACT_LIMIT", "5 per hour", "contact-ip", client_address()):
        response = _page(locale, "help/contact.html", 429, form=form, limited=True)
        response.headers["Retry-After"] = "3600"
        return response
    try:
        ticket = contact.submit(
            db.session,
            request=contact.ContactRequest(
                name=form.name.data or "",
                email=form.email.data or "",
                subject=form.subject.data or "",
                message=form.message.data or "",
                locale=locale,
            ),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        for field, reason in (exc.fields or {}).items():
            if field in form:
                form[field].errors = [*form[field].errors, reason]
        return _page(locale, "help/contact.html", 400, form=form)
    current_app.logger.info("contact form opened %s", ticket.reference)
    session[RECEIVED] = ticket.reference
    return redirect(url_for("console.help_contact_done", locale=locale))


@bp.get("/help/<locale>/contact/received")
def help_contact_done(locale: str) -> ResponseReturnValue:
    """Says "received" only to the browser that sent the request, from its signed session: an
    address anyone can type could otherwise confirm a request that never came."""
    _check(locale)
    reference = session.get(RECEIVED)
    if not isinstance(reference, str):
        return redirect(url_for("console.help_contact", locale=locale))
    return _page(locale, "help/contact_done.html", reference=reference)
