"""The customer portal: sign-in by one-time link, a customer's own requests, the contact form."""
