"""The shape of a customer's data export (`GET /api/v1/customers/{id}/export`).

One model per part; each part is filled by the holder that registered it (`parts` in
`helpdesk.privacy.registry.Holder`). The models forbid fields they do not declare, so the OpenAPI
document lists everything an export can contain, and the API tests' contract check fails an export
that carries something undocumented.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportPhone(_Part):
    number: str
    label: str


class ExportEmail(_Part):
    email: str
    label: str


class ExportCompany(_Part):
    id: int
    name: str


class ExportCustomer(_Part):
    id: int
    kind: str
    name: str
    language: str
    notes: str
    tags: list[str]
    company: ExportCompany | None
    phones: list[ExportPhone]
    emails: list[ExportEmail]
    created_at: datetime
    erased: bool
    # Duplicate records merged into this one: the same person, exported together.
    merged_ids: list[int]


class ExportComment(_Part):
    id: int
    body: str
    public: bool
    from_customer: bool
    channel: str
    created_at: datetime
    delivered_to: str | None


class ExportTicket(_Part):
    id: int
    reference: str
    subject: str
    description: str
    status: str
    priority: str
    channel: str
    tags: list[str]
    created_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    comments: list[ExportComment]


class ExportTimelineEntry(_Part):
    kind: str
    occurred_at: datetime
    summary: str


class ExportSms(_Part):
    id: int
    direction: str
    kind: str
    from_number: str
    to_number: str
    body: str
    media_urls: list[str]
    status: str
    created_at: datetime
    sent_at: datetime | None
    ticket_id: int | None


class ExportMailMessage(_Part):
    id: int
    direction: str
    kind: str
    from_address: str
    to_addresses: list[str]
    cc_addresses: list[str]
    subject: str
    body_text: str
    status: str
    created_at: datetime
    ticket_id: int | None
    attachments: list[str]


class ExportOptOut(_Part):
    number: str
    sending_number: str
    opted_out_at: datetime
    source: str


class ExportCall(_Part):
    id: int
    direction: str
    from_number: str
    to_number: str
    status: str
    outcome: str | None
    queue: str | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: str | None
    wrap_up_notes: str
    recording_url: str | None
    callback_requested: bool
    ticket_id: int | None


class ExportVoicemail(_Part):
    call_id: int
    left_at: datetime
    from_number: str
    recording_url: str | None
    ticket_id: int | None


class ExportCallback(_Part):
    call_id: int
    requested_at: datetime
    number: str
    outcome: str | None


class ExportVisitEvent(_Part):
    at: datetime
    action: str
    from_status: str
    to_status: str
    source: str
    note: str


class ExportWorkOrder(_Part):
    id: int
    reference: str
    summary: str
    description: str
    address: str
    lat: float
    lon: float
    status: str
    window_start: datetime
    window_end: datetime
    arrived_at: datetime | None
    completed_at: datetime | None
    completion_notes: str
    parts_used: list[str]
    acknowledged_by: str
    ticket_id: int | None
    visits: list[ExportVisitEvent]


class ExportSurvey(_Part):
    work_order_reference: str
    score: int | None
    sent_at: datetime
    answered_at: datetime | None


class ExportSatisfaction(_Part):
    """A satisfaction survey after a ticket or a call (helpdesk.surveys), and the answer."""

    trigger: str
    ticket_id: int | None
    channel: str
    sent_to: str
    sent_at: datetime
    score: int | None
    comment: str
    answered_at: datetime | None


class ExportConsent(_Part):
    """A consent to marketing on one channel (helpdesk.consent), withdrawn or not."""

    channel: str
    given_at: datetime
    source: str
    proof: str
    withdrawn_at: datetime | None


class ExportRefusal(_Part):
    """A refusal heard during a conversation: no marketing contact for a while after it."""

    channel: str
    number: str | None
    at: datetime


class ExportDoNotCall(_Part):
    """One of the customer's numbers on the do-not-call list."""

    number: str
    source: str
    channels: str
    added_at: datetime


class ExportEmailOptOut(_Part):
    """An unsubscribe from campaign e-mails (kept under a keyed hash of the address, which is
    why the address itself is not shown)."""

    at: datetime
    source: str
    campaign_id: int | None


class ExportInvoice(_Part):
    number: str
    amount_cents: int
    currency: str
    issued_on: date
    due_on: date
    paid_on: date | None


class ExportValue(_Part):
    segment: str
    revenue_cents: int
    previous_revenue_cents: int
    cost_cents: int
    late_invoices: int
    contacts: int
    complaints: int
    sla_breaches: int
    late_payer: bool
    signals: list[dict[str, Any]]
    computed_at: datetime


class ExportModelScore(_Part):
    """The customer models' scores (helpdesk.analytics): a profile, so it is theirs to see."""

    clv_cents: int
    p_alive: float | None
    expected_purchases_12m: float
    churn_risk: float | None
    drivers: list[dict[str, Any]]
    method: str
    computed_at: datetime


class ExportArticle(_Part):
    """A knowledge-base article drafted from one of the customer's tickets."""

    id: int
    title: str
    status: str
    source_ticket_id: int | None


class CustomerExport(_Part):
    """Everything held about a customer, by part. Each part is one holder's (see
    docs/personal-data.md); parts a customer has nothing in are empty lists (or null)."""

    customer: ExportCustomer
    tickets: list[ExportTicket]
    timeline: list[ExportTimelineEntry]
    sms: list[ExportSms]
    sms_opt_outs: list[ExportOptOut]
    mail_messages: list[ExportMailMessage]
    calls: list[ExportCall]
    voicemails: list[ExportVoicemail]
    callbacks: list[ExportCallback]
    work_orders: list[ExportWorkOrder]
    surveys: list[ExportSurvey]
    satisfaction: list[ExportSatisfaction]
    marketing_consents: list[ExportConsent]
    contact_refusals: list[ExportRefusal]
    do_not_call: list[ExportDoNotCall]
    email_opt_outs: list[ExportEmailOptOut]
    invoices: list[ExportInvoice]
    value: ExportValue | None
    model_scores: ExportModelScore | None
    kb_articles: list[ExportArticle]
    exported_at: datetime
