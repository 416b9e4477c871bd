"""Benchmarks that print figures (`python -m bench`); docs/benchmarks.md records them.

Each benchmark builds the data it needs in a database of its own on the local PostgreSQL, measures,
and drops the database again. Benchmarks report numbers and assert nothing: a missed target is a
figure to read, not a failure.
"""
