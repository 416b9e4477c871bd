"""Customer search and the customer page: the record, their tickets and their timeline."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from agents_ui.blueprint import bp
from agents_ui.company_page import company_sections
from agents_ui.consent_pages import consent_section
from agents_ui.supervision_pages import customer_value
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerKind
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor
from helpdesk.surveys import service as surveys
from helpdesk.tickets import service as tickets
from helpdesk.tickets.service import TicketFilter
from helpdesk.timeline import service as timeline

SEARCH_PAGE = 25
TIMELINE_PAGE = 50
TICKETS_ON_CARD = 10


@bp.get("/customers")
@login_required
def customer_search() -> ResponseReturnValue:
    """By name (prefix, accents ignored), phone number in any common format, or e-mail."""
    q = request.args.get("q", "").strip()[:200]
    tag = request.args.get("tag", "").strip()[:64]
    after = request.args.get("after", "")
    after_id = int(after) if after.isdigit() else None
    rows = customers.search(
        db.session,
        q=q,
        tag=tag or None,
        limit=SEARCH_PAGE + 1,
        after_id=after_id,
        region=current_app.config.get("HELPDESK_DEFAULT_REGION", "FR"),
    )
    next_url = None
    companies = _company_names(rows)
    if len(rows) > SEARCH_PAGE:
        rows = rows[:SEARCH_PAGE]
        next_url = url_for(
            "console.customer_search", q=q or None, tag=tag or None, after=rows[-1].id
        )
    return render_template(
        "customers/search.html",
        rows=rows,
        q=q,
        tag=tag,
        next_url=next_url,
        companies=companies,
        first_url=url_for("console.customer_search", q=q or None, tag=tag or None)
        if after_id
        else None,
    )


@bp.get("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int) -> ResponseReturnValue:
    record = customers.get(db.session, customer_id)
    if record.id != customer_id:
        # A merged duplicate: old links land on the record that absorbed it.
        return redirect(url_for("console.customer", customer_id=record.id))
    # Read before the ticket query: list_tickets marks the unloaded relations of the requesters
    # it loads as raise-on-access, and this record is one of them.
    company = record.company
    before = request.args.get("before") or None
    try:
        entries, next_cursor = timeline.page(
            db.session, customer_id=record.id, cursor=before, limit=TIMELINE_PAGE
        )
    except BadCursor:
        flash(_("That page link is no longer valid; here are the latest entries."), "warning")
        before = None
        entries, next_cursor = timeline.page(db.session, customer_id=record.id, limit=TIMELINE_PAGE)
    more_url = (
        url_for("console.customer", customer_id=record.id, before=next_cursor)
        if next_cursor
        else None
    )
    if request.args.get("fragment") == "timeline":
        # What the "load more" button fetches to append below the entries already shown.
        return render_template("customers/_timeline.html", entries=entries, more_url=more_url)
    is_company = record.kind is CustomerKind.COMPANY
    extra: dict[str, Any] = {}
    if is_company:
        after = request.args.get("contacts_after", "")
        extra = company_sections(
            db.session, record, contacts_after=int(after) if after.isdigit() else None
        )
    # A company's card lists its own tickets and its contacts' ones.
    flt = TicketFilter(company_id=record.id) if is_company else TicketFilter(requester_id=record.id)
    rows, more_tickets = tickets.list_tickets(
        db.session, flt, limit=TICKETS_ON_CARD, sort="-updated"
    )
    return render_template(
        "customers/detail.html",
        customer=record,
        company=company,
        tickets=rows,
        more_tickets=bool(more_tickets),
        entries=entries,
        more_url=more_url,
        older=before is not None,
        value=customer_value(record.id),
        surveys=[] if is_company else surveys.recent(db.session, customer_id=record.id),
        csat=None if is_company else surveys.summary(db.session, customer_id=record.id),
        survey_state=surveys.state,
        is_company=is_company,
        **({} if is_company else consent_section(record.id)),
        **extra,
    )


def _company_names(rows: list[Customer]) -> dict[int, str]:
    """The companies of a page of customers in one query, rather than one lazy load per row."""
    ids = {c.company_id for c in rows if c.company_id is not None}
    if not ids:
        return {}
    found = db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {row.id: row.name for row in found}
