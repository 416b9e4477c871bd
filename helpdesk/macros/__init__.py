"""Macros (canned replies): a text with placeholders an agent inserts into a reply, and the
ticket changes it brings along (docs/macros.md)."""
