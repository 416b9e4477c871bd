"""Outbound campaigns: lists, channels, scripts, progressive calls, and the compliance rules."""
