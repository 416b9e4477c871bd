"""Outbound campaigns: lists, channels, schedules, and when a contact may be made."""
