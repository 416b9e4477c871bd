"""`/api/v1/macros`: canned replies; and a macro rendered on a ticket before the reply goes.

The reply itself is posted with `POST /tickets/{id}/comments` and `macro_id`: the macro's changes
are made with that reply, once, in its transaction (helpdesk.tickets.reply_actions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details
from helpdesk.extensions import db
from helpdesk.macros import service
from helpdesk.macros.models import SHARED, Macro
from helpdesk.tickets import service as tickets

bp = Blueprint("macros_api", __name__, url_prefix="/api/v1")

_ONE = "/macros/<int:macro_id>"
Language = Literal["en", "fr"]
Visibility = Literal["shared", "personal"]
SettableStatus = Literal["open", "pending", "on_hold", "solved"]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
_BODY_DOC = (
    "Plain text. Placeholders: {{customer.name}}, {{customer.first_name}}, {{ticket.reference}}, "
    "{{agent.name}}, {{technician.eta}}; any other {{name}} is refused, naming it."
)


class MacroIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Written] = Field(min_length=1, max_length=120)
    body: Annotated[str, Written] = Field(min_length=1, max_length=20_000, description=_BODY_DOC)
    language: Language = "en"
    visibility: Visibility = Field(
        default="personal",
        description="`shared`: seen by all staff, written by supervisors and administrators; "
        "`personal`: its owner's alone.",
    )
    set_status: SettableStatus | None = None
    add_tags: list[Tag] = Field(default_factory=list, max_length=20)
    set_group_id: int | None = None


class MacroPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=120)
    body: Annotated[str, Written] | None = Field(
        default=None, min_length=1, max_length=20_000, description=_BODY_DOC
    )
    language: Language | None = None
    visibility: Visibility | None = None
    set_status: SettableStatus | None = None
    add_tags: list[Tag] | None = Field(default=None, max_length=20)
    set_group_id: int | None = None


class MacroOut(BaseModel):
    id: int
    title: str
    body: str
    language: Language
    visibility: Visibility
    owner_id: int | None
    set_status: SettableStatus | None
    add_tags: list[str]
    set_group_id: int | None
    editable: bool = Field(description="Whether the caller may change or delete it.")
    created_at: datetime
    updated_at: datetime


class MacroList(BaseModel):
    items: list[MacroOut]


class MacroQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(default=None, max_length=200, description="In the title or the text.")
    language: Language | None = None


class GroupRef(BaseModel):
    id: int
    name: str


class MacroActionsOut(BaseModel):
    status: SettableStatus | None
    add_tags: list[str]
    group: GroupRef | None


class MacroPreview(BaseModel):
    macro_id: int
    ticket_id: int
    text: str = Field(description="The macro's text with the ticket's values, plain text.")
    actions: MacroActionsOut = Field(
        description="What the reply posted with this `macro_id` will also change. A status "
        "given with the reply wins over the macro's."
    )


def macro_out(m: Macro) -> MacroOut:
    return MacroOut.model_validate(
        {
            "id": m.id,
            "title": m.title,
            "body": m.body,
            "language": m.language,
            "visibility": m.visibility,
            "owner_id": m.owner_id,
            "set_status": m.set_status,
            "add_tags": list(m.add_tags or []),
            "set_group_id": m.set_group_id,
            "editable": service.may_edit(current_api_user(), m),
            "created_at": m.created_at,
            "updated_at": m.updated_at,
        }
    )


@operation(
    bp,
    "/macros",
    "GET",
    summary="The macros the caller can use: the shared ones and their own, by title",
    query=MacroQuery,
    response=MacroList,
    tag="macros",
)
def list_macros(query: MacroQuery) -> MacroList:
    found = service.visible(db.session, user=current_api_user(), q=query.q, language=query.language)
    return MacroList(items=[macro_out(m) for m in found])


@operation(
    bp,
    "/macros",
    "POST",
    summary="Create a macro (shared ones by supervisors and administrators)",
    body=MacroIn,
    response=MacroOut,
    status=201,
    tag="macros",
)
def create_macro(body: MacroIn) -> MacroOut:
    macro = service.create(db.session, actor=current_api_user(), **body.model_dump())
    audit_details({"shared": macro.visibility == SHARED})
    return macro_out(macro)


@operation(bp, _ONE, "GET", summary="One macro", response=MacroOut, tag="macros")
def get_macro(macro_id: int) -> MacroOut:
    return macro_out(service.get_visible(db.session, macro_id, user=current_api_user()))


@operation(
    bp,
    _ONE,
    "PATCH",
    summary="Change a macro (a shared one: supervisors and administrators; audited)",
    body=MacroPatch,
    response=MacroOut,
    tag="macros",
)
def update_macro(macro_id: int, body: MacroPatch) -> MacroOut:
    user = current_api_user()
    macro = service.get_visible(db.session, macro_id, user=user)
    was_shared = macro.visibility == SHARED
    service.update(db.session, macro, actor=user, **body.model_dump(exclude_unset=True))
    audit_details({"shared": was_shared or macro.visibility == SHARED})
    return macro_out(macro)


@operation(
    bp,
    _ONE,
    "DELETE",
    summary="Delete a macro (a shared one: supervisors and administrators; audited)",
    status=204,
    tag="macros",
)
def delete_macro(macro_id: int) -> Response:
    user = current_api_user()
    macro = service.get_visible(db.session, macro_id, user=user)
    audit_details({"shared": macro.visibility == SHARED, "title": macro.title})
    service.delete(db.session, macro, actor=user)
    return Response(status=204)


@operation(
    bp,
    "/tickets/<int:ticket_id>/macros/<int:macro_id>/apply",
    "POST",
    summary="A macro rendered on a ticket, and the changes it brings: a preview, changes nothing",
    response=MacroPreview,
    tag="macros",
)
def apply_macro(ticket_id: int, macro_id: int) -> MacroPreview:
    user = current_api_user()
    ticket = tickets.get(db.session, ticket_id)
    macro = service.get_visible(db.session, macro_id, user=user)
    shown = service.preview(db.session, ticket, macro, agent=user)
    group = shown.group
    return MacroPreview.model_validate(
        {
            "macro_id": macro.id,
            "ticket_id": ticket.id,
            "text": shown.text,
            "actions": {
                "status": shown.actions.status.value if shown.actions.status else None,
                "add_tags": list(shown.actions.add_tags),
                "group": {"id": group.id, "name": group.name} if group else None,
            },
        }
    )
