"""REST API plumbing shared by every feature's `api.py`: auth, validation, OpenAPI."""
