"""Who may do what, named once for the API and the console alike.

An action reachable from both doors takes its roles from here, so that the console can never
grant what the API refuses (it once let dispatchers publish knowledge-base articles), and the
role-matrix test reads the same names. Admins pass every check (`User.has_role`).
"""

from __future__ import annotations

from helpdesk.auth.models import Role

# Write, edit and publish knowledge-base articles (and draft one from a ticket).
KB_WRITE: tuple[Role, ...] = (Role.AGENT, Role.SUPERVISOR)
