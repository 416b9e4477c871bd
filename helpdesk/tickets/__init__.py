"""Tickets: workflow, comments, history and human-friendly references."""
