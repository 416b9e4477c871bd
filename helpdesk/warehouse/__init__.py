"""The analytics warehouse: the facts and dimensions as Parquet files, queried with DuckDB.

Heavy analysis reads these files, never the operational database; the same files open as they
are in any BI tool. `schema` is the contract: stable names and types, documented in
docs/analytics.md.
"""
