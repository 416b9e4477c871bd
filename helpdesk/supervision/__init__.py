"""Supervision: the call event log, live statistics, the wallboard and call reports."""
