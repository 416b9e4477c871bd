"""Who may do what, named once for the API, the console and the live connection alike.

Every role check takes its roles from here, by the action's name, so that the console can never
grant what the API refuses (it once let dispatchers publish knowledge-base articles), and the
role-matrix test (tests/functional/access_table.py) states each endpoint's expected access in the
same names. Admins pass every check (`User.has_role`), so they are not listed.
"""

from __future__ import annotations

from helpdesk.auth.models import Role

Permission = tuple[Role, ...]

# Any signed-in staff member: tickets, customers, calls, texts, the knowledge base's reading.
STAFF: Permission = (Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER)
# Write, edit and publish knowledge-base articles (and draft one from a ticket).
KB_WRITE: Permission = (Role.AGENT, Role.SUPERVISOR)
# Delete a knowledge-base article.
KB_DELETE: Permission = (Role.SUPERVISOR,)
# Watch and steer the floor: wallboard, agents' presence, moving calls, service-level and call
# reports, customer value; the live connection's supervisors' room.
SUPERVISE: Permission = (Role.SUPERVISOR,)
# Field service: technicians, work orders, the dispatch board.
DISPATCH: Permission = (Role.DISPATCHER, Role.SUPERVISOR)
# Hand a caller over to a number outside the center (a call transfer): it is billed, and it
# takes the call out of the helpdesk's hands.
TRANSFER_OUT: Permission = (Role.SUPERVISOR,)
# A customer's whole record leaves or is rewritten: export, merge.
PERSONAL_DATA: Permission = (Role.SUPERVISOR,)
# Configuration and accounts: users, SLA calendars and policies, queues, opening hours, the
# audit log, telephony setup, and the erasure of a customer.
ADMINISTER: Permission = (Role.ADMIN,)
# Hand the helpdesk a raw inbound e-mail (a mail provider's route, a script): the integration
# role's only permission.
MAIL_INGRESS: Permission = (Role.INTEGRATION,)
