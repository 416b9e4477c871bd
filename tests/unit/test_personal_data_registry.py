"""The registry of personal data holders accounts for every table (helpdesk.privacy.registry).

A new model with a column that looks personal (a number, a name, an address, notes, a body, a
URL ...) or a link to a customer fails here until its feature's `privacy.py` covers it in a
holder, or exempts it with the reason it may stay after an erasure.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Column, ForeignKey, Integer, MetaData, String, Table, Text

from helpdesk.db import Base
from helpdesk.models import load_all
from helpdesk.privacy import registry
from helpdesk.privacy.export import CustomerExport

ROOT = Path(__file__).resolve().parents[2]


def test_every_personal_looking_column_is_covered_or_exempt_with_a_reason() -> None:
    load_all()
    assert registry.unaccounted(Base.metadata) == []
    assert all(reason.strip() for reason in registry.exemptions().values())


def test_a_new_table_with_personal_columns_is_caught() -> None:
    load_all()
    metadata = MetaData()
    Table("customers", metadata, Column("id", Integer, primary_key=True))
    Table(
        "parcel_deliveries",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey("customers.id")),
        Column("recipient_phone", String(20)),
        Column("delivery_notes", Text),
        Column("extra", JSON),  # an innocent name: only the link flags the table
    )
    Table(
        "anonymous_counts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("caller_name", String(200)),  # no link to a customer, still personal-looking
        Column("queue", String(50)),
    )
    assert set(registry.unaccounted(metadata)) == {
        "parcel_deliveries.customer_id (links to a customer)",
        "parcel_deliveries.recipient_phone",
        "parcel_deliveries.delivery_notes",
        "anonymous_counts.caller_name",
    }


def test_covers_and_exemptions_name_real_columns() -> None:
    """A renamed or dropped column leaves no stale entry that would cover nothing."""
    load_all()
    columns = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    for table, names in registry.covered().items():
        for name in names:
            assert (table, name) in columns, f"{table}.{name} is covered but does not exist"
    for table, name in registry.exemptions():
        assert (table, name) in columns, f"{table}.{name} is exempt but does not exist"
        covered = registry.covered().get(table, set())
        assert name not in covered, f"{table}.{name} is both covered and exempt"


def test_each_export_part_has_one_holder_and_the_schema_has_each_part() -> None:
    parts = [p for h in registry.holders() for p in h.parts]
    assert len(parts) == len(set(parts)), "two holders export the same part"
    fields = set(CustomerExport.model_fields) - {"exported_at"}
    assert set(parts) == fields
    assert all(h.export is not None for h in registry.holders() if h.parts)


def test_every_feature_privacy_module_is_registered() -> None:
    """A feature's `privacy.py` that `PRIVACY_MODULES` forgets would never be walked."""
    found = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in ("helpdesk", "telephony", "kb", "agents_ui")
        for path in (ROOT / package).rglob("privacy.py")
    }
    assert found == set(registry.PRIVACY_MODULES)


def test_phone_forms_and_redaction() -> None:
    assert registry.phone_forms("+33612345678") == [
        "+33612345678",
        "33612345678",
        "06 12 34 56 78",
        "0612345678",
    ]
    subject = registry.Subject(
        customer_id=1, customer_ids=(1,), identifiers=("Jeanne Martin", "0612345678")
    )
    assert registry.redact("JEANNE MARTIN, 0612345678.", subject) == "[erased], [erased]."
    assert not registry.names_a_person("Anne") and registry.names_a_person("Anne Roy")
