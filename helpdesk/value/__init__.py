"""Customer value: invoices, cost to serve, segments."""
