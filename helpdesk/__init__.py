"""Open-source call-center and customer-service helpdesk."""

__version__ = "0.1.0"
