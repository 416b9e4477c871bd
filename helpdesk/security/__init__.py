"""Protections that hold across the whole application: response headers, log redaction."""
