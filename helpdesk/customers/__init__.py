"""The customer record: people and companies, their contacts, merge, export and erasure."""
