"""Staff accounts hold staff data, not customers': they are exempt from a customer's erasure
(an account is deactivated or deleted through the users API)."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

STAFF = "staff: a user account's own data, managed through /api/v1/users, not a customer's"

exempt("users", "email", STAFF)
exempt("users", "name", STAFF)
exempt("groups", "name", "configuration: a team's name, not a person")
exempt("api_tokens", "name", "a label the token's owner gave it (staff), not a customer's")
exempt("console_sessions", "user_agent", STAFF)
exempt("console_sessions", "ip", STAFF)
