"""The knowledge-base relevance evaluation set: a corpus written for it and the queries agents and
customers type, each with the articles they expect (see docs/kb.md, "Relevance")."""
