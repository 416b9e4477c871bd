"""The warehouse's star schema: every table's columns, names and Arrow types.

This is the contract with the analytics pages, the customer models and anyone's BI tool, so a
column is never renamed or retyped in place: a change adds a column and bumps `VERSION`.

Conventions, the same in every table:
- keys are the operational ids (`customer_key` is `customers.id`), int64, null when unknown;
- every fact has `at` (when it happened, UTC, microseconds) and `date_key` (its UTC date), so
  the date dimension joins any fact;
- money is in cents (int64) with its currency beside it; durations in seconds (float64);
- no personal data: no names, numbers, addresses or message bodies. A customer is a key, a
  kind, a language and a company; an erased customer keeps only `erased = true`.

Facts are written in monthly partitions of `at` (`fact_ticket/month=2026-12/data.parquet`,
Hive style), dimensions as one file each (`dim_customer.parquet`).
"""

from __future__ import annotations

import pyarrow as pa

VERSION = 1

TS = pa.timestamp("us", tz="UTC")
KEY = pa.int64()


def _fact(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    """A fact table: its own key, the customer, when, then its measures."""
    return pa.schema([("customer_key", KEY), ("at", TS), ("date_key", pa.date32()), *columns])


FACTS: dict[str, pa.Schema] = {
    # One row per call (inbound, outbound, campaign).
    "fact_call": _fact(
        ("call_key", KEY),
        ("queue_key", KEY),
        ("agent_key", KEY),
        ("direction", pa.string()),  # inbound | outbound
        ("outcome", pa.string()),  # answered | abandoned | voicemail | callback | missed | ...
        ("wait_s", pa.float64()),
        ("talk_s", pa.float64()),
        ("cost_cents", pa.int64()),  # talk minutes at the value module's rate
        ("campaign_key", KEY),  # null unless placed by an outbound campaign
    ),
    # One row per ticket; `at` is its creation.
    "fact_ticket": _fact(
        ("ticket_key", KEY),
        ("agent_key", KEY),  # the assignee
        ("channel", pa.string()),
        ("status", pa.string()),
        ("priority", pa.string()),
        ("is_complaint", pa.bool_()),  # tagged complaint / reclamation
        ("solved_at", TS),
        ("resolution_s", pa.float64()),  # created -> solved, null while open
        ("cost_cents", pa.int64()),
    ),
    # One row per text message, both ways (keywords and acknowledgements included).
    "fact_sms": _fact(
        ("sms_key", KEY),
        ("direction", pa.string()),  # inbound | outbound
        ("kind", pa.string()),
        ("status", pa.string()),
        ("segments", pa.int32()),
        ("cost_cents", pa.int64()),
        ("campaign_key", KEY),
    ),
    # One row per e-mail, both ways.
    "fact_email": _fact(
        ("email_key", KEY),
        ("direction", pa.string()),
        ("kind", pa.string()),
        ("status", pa.string()),
        ("campaign_key", KEY),
    ),
    # One row per field visit (work order); `at` is the start of its window.
    "fact_visit": _fact(
        ("visit_key", KEY),
        ("technician_key", KEY),
        ("status", pa.string()),
        ("completed_at", TS),
        ("late_s", pa.float64()),
        ("cost_cents", pa.int64()),
    ),
    # One row per invoice; `at` is the issue date at midnight UTC.
    "fact_invoice": _fact(
        ("invoice_key", KEY),
        ("amount_cents", pa.int64()),
        ("currency", pa.string()),
        ("issued_on", pa.date32()),
        ("due_on", pa.date32()),
        ("paid_on", pa.date32()),
        ("days_late", pa.int32()),  # paid late, or still unpaid past due: days past due today
    ),
    # One row per satisfaction survey sent; `at` is when it was sent.
    "fact_survey": _fact(
        ("survey_key", KEY),
        ("trigger", pa.string()),  # ticket | call
        ("channel", pa.string()),  # email | sms
        ("agent_key", KEY),
        ("score", pa.int32()),  # null until answered
        ("answered_at", TS),
    ),
}

DIMENSIONS: dict[str, pa.Schema] = {
    "dim_customer": pa.schema(
        [
            ("customer_key", KEY),
            ("kind", pa.string()),  # person | company
            ("company_key", KEY),
            ("language", pa.string()),
            ("created_at", TS),
            ("segment", pa.string()),  # the value module's segment at export time
            ("erased", pa.bool_()),
        ]
    ),
    "dim_agent": pa.schema(
        [
            ("agent_key", KEY),
            ("name", pa.string()),  # staff, not customers: named so reports read well
            ("role", pa.string()),
            ("language", pa.string()),
            ("active", pa.bool_()),
        ]
    ),
    "dim_queue": pa.schema(
        [
            ("queue_key", KEY),
            ("name", pa.string()),
            ("language", pa.string()),
            ("active", pa.bool_()),
        ]
    ),
    "dim_date": pa.schema(
        [
            ("date_key", pa.date32()),
            ("year", pa.int16()),
            ("quarter", pa.int8()),
            ("month", pa.int8()),
            ("iso_week", pa.int8()),
            ("weekday", pa.int8()),  # 1 = Monday … 7 = Sunday (ISO)
            ("is_weekend", pa.bool_()),
            ("is_holiday_fr", pa.bool_()),  # a French public holiday (metropolitan calendar)
        ]
    ),
}

TABLES: dict[str, pa.Schema] = {**FACTS, **DIMENSIONS}
