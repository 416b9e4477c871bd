"""Users, roles, console login and API tokens."""
