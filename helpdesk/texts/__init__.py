"""The fixed texts the helpdesk sends customers, and the administrators' overrides of them."""
