"""A new customer, and changes to a customer's record, from the console.

Checked by the API's rules (`CustomerCreate`, `CustomerUpdate`) and saved by the same services as
`POST` and `PATCH /api/v1/customers`. Phone numbers and e-mail addresses are one row each, with
their label, and an empty row to add one; a row emptied is removed.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import inspect
from werkzeug.datastructures import MultiDict

from agents_ui import form_input, labels
from agents_ui.blueprint import bp
from helpdesk.customers import service as customers
from helpdesk.customers.api import CustomerCreate, CustomerUpdate
from helpdesk.customers.models import Customer, CustomerKind
from helpdesk.errors import Conflict
from helpdesk.extensions import db

BLANK_ROWS = 1


def _region() -> str:
    return str(current_app.config.get("HELPDESK_DEFAULT_REGION", "FR"))


def _rows(form: MultiDict[str, str], value: str, label: str) -> list[tuple[str, str]]:
    values, names = form.getlist(value), form.getlist(label)
    names += [""] * (len(values) - len(names))
    return [(v.strip(), n.strip()) for v, n in zip(values, names, strict=False)]


def _input(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The form as the API's JSON body, and for phones and e-mails the form row of each item
    sent (empty rows are left out), to show a refusal next to its row."""
    phones = _rows(form, "phone", "phone_label")
    emails = _rows(form, "email", "email_label")
    sent_phones = [i for i, (number, _label) in enumerate(phones) if number]
    sent_emails = [i for i, (address, _label) in enumerate(emails) if address]
    data: dict[str, Any] = {
        "name": form.get("name", ""),
        "kind": form.get("kind") or CustomerKind.PERSON.value,
        "language": form.get("language") or "fr",
        "notes": form.get("notes", ""),
        "tags": form_input.tag_list(form.get("tags", "")),
        "phones": [
            {"number": phones[i][0], "label": phones[i][1] or "mobile"} for i in sent_phones
        ],
        "emails": [{"email": emails[i][0], "label": emails[i][1] or "work"} for i in sent_emails],
    }
    return data, {"phones": sent_phones, "emails": sent_emails}


def _by_row(errors: dict[str, str], sent: dict[str, list[int]]) -> dict[str, str]:
    """`phones.1.number` (the second number sent) becomes `phones.3` (the form's fourth row)."""
    out: dict[str, str] = {}
    for key, text in errors.items():
        head, _dot, rest = key.partition(".")
        index = rest.partition(".")[0]
        if head in sent and index.isdigit() and int(index) < len(sent[head]):
            out.setdefault(f"{head}.{sent[head][int(index)]}", text)
        else:
            out.setdefault(key, text)
    return out


def _values(form: MultiDict[str, str]) -> dict[str, Any]:
    return {
        "name": form.get("name", ""),
        "kind": form.get("kind", ""),
        "language": form.get("language", ""),
        "notes": form.get("notes", ""),
        "tags": form.get("tags", ""),
        "phones": _rows(form, "phone", "phone_label"),
        "emails": _rows(form, "email", "email_label"),
    }


def _values_of(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "kind": customer.kind.value,
        "language": customer.language,
        "notes": customer.notes,
        "tags": ", ".join(customer.tags),
        "phones": [(p.e164, p.label) for p in customer.phones],
        "emails": [(e.email, e.label) for e in customer.emails],
    }


def _page(
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    customer: Customer | None = None,
    status: int = 200,
) -> tuple[str, int]:
    values = {
        **values,
        "phones": [*values["phones"], *[("", "")] * BLANK_ROWS],
        "emails": [*values["emails"], *[("", "")] * BLANK_ROWS],
    }
    return render_template(
        "customers/form.html",
        values=values,
        errors=errors,
        customer=customer,
        next=request.args.get("next", ""),
        choices={
            "kind": [(k.value, labels.CUSTOMER_KIND[k]) for k in CustomerKind],
            "language": list(labels.LANGUAGES.items()),
            "phone_label": list(labels.PHONE_LABEL.items()),
            "email_label": list(labels.EMAIL_LABEL.items()),
        },
    ), status


@bp.get("/customers/new")
@login_required
def new_customer() -> ResponseReturnValue:
    values = {
        "name": request.args.get("name", "")[:200],
        "kind": CustomerKind.PERSON.value,
        "language": "fr",
        "notes": "",
        "tags": "",
        "phones": [],
        "emails": [],
    }
    return _page(values, {})


@bp.post("/customers/new")
@login_required
def create_customer() -> ResponseReturnValue:
    data, sent = _input(request.form)
    try:
        body = form_input.check(CustomerCreate, data)
        created = form_input.apply(
            lambda: customers.create(
                db.session,
                name=body.name,
                kind=body.kind,
                language=body.language,
                notes=body.notes,
                tags=body.tags,
                region=_region(),
                phones=[p.model_dump() for p in body.phones],
                emails=[e.model_dump() for e in body.emails],
            )
        )
    except form_input.Refused as refused:
        db.session.rollback()
        return _page(_values(request.form), _by_row(refused.errors, sent), status=422)
    customer_id: int = inspect(created).identity[0]
    flash(_("%(name)s is now a customer.", name=body.name.strip()), "success")
    if request.args.get("next") == "ticket":
        return redirect(url_for("console.new_ticket", requester=customer_id))
    return redirect(url_for("console.customer", customer_id=customer_id))


@bp.get("/customers/<int:customer_id>/edit")
@login_required
def edit_customer(customer_id: int) -> ResponseReturnValue:
    record = customers.get(db.session, customer_id)
    if record.id != customer_id:
        return redirect(url_for("console.edit_customer", customer_id=record.id))
    return _page(_values_of(record), {}, customer=record)


@bp.post("/customers/<int:customer_id>/edit")
@login_required
def update_customer(customer_id: int) -> ResponseReturnValue:
    record = customers.get(db.session, customer_id, follow_merge=False)
    data, sent = _input(request.form)
    try:
        body = form_input.check(CustomerUpdate, data)
        form_input.apply(
            lambda: customers.update_customer(
                db.session, record, region=_region(), **body.model_dump(exclude_unset=True)
            )
        )
    except (form_input.Refused, Conflict) as refused:
        db.session.rollback()
        errors = (
            refused.errors
            if isinstance(refused, form_input.Refused)
            else {"form": _("This customer's personal data was erased: the record is closed.")}
        )
        record = customers.get(db.session, customer_id, follow_merge=False)
        return _page(_values(request.form), _by_row(errors, sent), customer=record, status=422)
    flash(_("Changes saved."), "success")
    return redirect(url_for("console.customer", customer_id=customer_id))
