"""Service levels: business calendars, policies, clocks, breach scans and escalations."""
