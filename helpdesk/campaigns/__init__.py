"""Outbound campaigns: lists, channels, scripts, progressive calls and their compliance rules."""
