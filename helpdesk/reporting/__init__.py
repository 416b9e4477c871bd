"""Call-center statistics and staffing."""
