"""Who holds personal data about a customer, and how each holder erases and exports it.

Each feature registers, in its own `privacy.py`, a `Holder`: the columns of its tables that can
identify a person, a function that anonymises them for one `Subject`, and a function that exports
them. `helpdesk.customers.erasure` walks the holders, so the erasure and the export are one
function each however many features hold data. A column that looks personal and is neither
covered by a holder nor exempted here with a reason fails
tests/unit/test_personal_data_registry.py: a new table cannot be forgotten silently.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy import JSON, ColumnElement, MetaData, String, Text, false, or_

from helpdesk.db import DbSession

# The features' registration modules, imported together (by name, as `helpdesk.models` does for
# the models) so that the erasure always walks every holder, whatever process runs it.
PRIVACY_MODULES = (
    "helpdesk.customers.privacy",
    "helpdesk.tickets.privacy",
    "helpdesk.timeline.privacy",
    "helpdesk.value.privacy",
    "helpdesk.analytics.privacy",
    "helpdesk.dispatch.privacy",
    "helpdesk.auth.privacy",
    "helpdesk.sla.privacy",
    "helpdesk.supervision.privacy",
    "helpdesk.audit.privacy",
    "helpdesk.webhooks.privacy",
    "helpdesk.saved_views.privacy",
    "helpdesk.mail.privacy",
    "helpdesk.macros.privacy",
    "helpdesk.portal.privacy",
    "helpdesk.surveys.privacy",
    "helpdesk.campaigns.privacy",
    "helpdesk.consent.privacy",
    "telephony.privacy",
    "kb.privacy",
)

# Shorter strings are not searched for in other people's text: they would match ordinary words.
MIN_IDENTIFIER = 5

# What replaces a text that is erased where a column cannot be empty or an empty value would read
# as "never filled in".
ERASED = "[erased]"

# Parts of a column name that suggest it may hold something that identifies a person.
PERSONAL_HINTS = frozenset(
    {
        "acknowledged",
        "address",
        "body",
        "changes",
        "data",
        "description",
        "details",
        "e164",
        "email",
        "endpoint",
        "error",
        "from",
        "ip",
        "label",
        "name",
        "note",
        "notes",
        "number",
        "path",
        "phone",
        "reason",
        "recording",
        "subject",
        "summary",
        "title",
        "to",
        "url",
        "urls",
    }
)


def names_a_person(name: str) -> bool:
    """Whether a name is specific enough to be looked for in text that is not the person's own:
    a full name (`Jeanne Martin`) or a long single word, not a short first name alone."""
    name = name.strip()
    return len(name) >= MIN_IDENTIFIER and (" " in name or len(name) >= 8)


def looks_personal(column_name: str) -> bool:
    return any(part in PERSONAL_HINTS for part in column_name.lower().split("_"))


@dataclass(frozen=True)
class Subject:
    """The person being erased or exported, as found before anything is changed.

    `customer_ids` is the record and the duplicates merged into it (the same person).
    `identifiers` are the strings that name the person in free text that is not theirs (a
    technician's text, an article drafted from their ticket): names, numbers in the forms people
    type them, e-mail addresses, and what holders add (a visit's address).
    """

    customer_id: int
    customer_ids: tuple[int, ...]
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    actor_id: int | None = None


@dataclass(frozen=True)
class Holder:
    """One feature's personal data.

    `covers` maps each table the holder anonymises to the columns it blanks or rewrites (rows it
    deletes count as covering all of them). `erase` anonymises the subject's data in the caller's
    transaction and returns how many rows it changed; it must be idempotent. `export` returns the
    holder's parts of the export (`parts` names them: the keys of `CustomerExport`).
    `identifiers` adds strings that identify the person (an address) to the subject before any
    holder erases. `order`: lower runs first.
    """

    name: str
    covers: Mapping[str, tuple[str, ...]]
    erase: Callable[[DbSession, Subject], int]
    export: Callable[[DbSession, Subject], Mapping[str, Any]] | None = None
    parts: tuple[str, ...] = ()
    identifiers: Callable[[DbSession, Subject], Iterable[str]] | None = None
    order: int = 100


@dataclass
class Registry:
    holders: dict[str, Holder] = field(default_factory=dict)
    # (table, column) -> why the column may keep what it holds after an erasure.
    exemptions: dict[tuple[str, str], str] = field(default_factory=dict)


REGISTRY = Registry()


def register(holder: Holder) -> Holder:
    """Add (or, on a re-import, replace) a feature's holder."""
    REGISTRY.holders[holder.name] = holder
    return holder


def exempt(table: str, column: str, reason: str) -> None:
    """Declare that `table.column` keeps its value after an erasure, and why."""
    if not reason.strip():
        raise ValueError(f"an exemption of {table}.{column} needs a reason")
    REGISTRY.exemptions[(table, column)] = reason


def load_all() -> None:
    for name in PRIVACY_MODULES:
        importlib.import_module(name)


def holders() -> list[Holder]:
    load_all()
    return sorted(REGISTRY.holders.values(), key=lambda h: (h.order, h.name))


def exemptions() -> dict[tuple[str, str], str]:
    load_all()
    return dict(REGISTRY.exemptions)


def covered() -> dict[str, set[str]]:
    """Each table's columns that some holder anonymises."""
    out: dict[str, set[str]] = {}
    for holder in holders():
        for table, columns in holder.covers.items():
            out.setdefault(table, set()).update(columns)
    return out


# -- helpers for holders ------------------------------------------------------------------------


def phone_forms(e164: str) -> list[str]:
    """The ways a stored number appears in text: E.164, without the +, national digits and the
    national format (`+33612345678`, `33612345678`, `0612345678`, `06 12 34 56 78`)."""
    forms = [e164, e164.lstrip("+")]
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms += [national, re.sub(r"\D", "", national)]
    return [f for f in dict.fromkeys(forms) if len(re.sub(r"\D", "", f)) >= 6]


def redact(text: str, subject: Subject) -> str:
    """`text` with each of the subject's identifiers replaced by `[erased]` (any case)."""
    for ident in sorted(subject.identifiers, key=len, reverse=True):
        text = re.sub(re.escape(ident), ERASED, text, flags=re.IGNORECASE)
    return text


def mentions(column: Any, subject: Subject) -> ColumnElement[bool]:
    """Rows whose `column` contains one of the subject's identifiers (a prefilter for `redact`;
    LIKE is case-insensitive for ASCII on SQLite, ILIKE is used on PostgreSQL)."""
    clauses = [
        column.ilike(f"%{_escape_like(ident)}%", escape="\\") for ident in subject.identifiers
    ]
    return or_(*clauses) if clauses else false()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def unaccounted(metadata: MetaData) -> list[str]:
    """Columns of `metadata` that may identify a person and that no holder covers nor any
    exemption explains: text columns whose name looks personal, and every link to a customer
    (a table that points at customers holds something about them)."""
    cover, exempted = covered(), exemptions()
    missing = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if column.name in cover.get(table.name, ()) or (table.name, column.name) in exempted:
                continue
            text = isinstance(column.type, String | Text | JSON)
            links = any(fk.column.table.name == "customers" for fk in column.foreign_keys)
            if links and table.name not in cover:
                missing.append(f"{table.name}.{column.name} (links to a customer)")
            elif text and looks_personal(column.name):
                missing.append(f"{table.name}.{column.name}")
    return missing
