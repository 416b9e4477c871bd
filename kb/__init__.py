"""Knowledge base: articles, search (Whoosh or PostgreSQL) and suggestions; see docs/kb.md."""
