"""Who each permission lets through, stated here apart from the code that reads it.

The role matrix states each endpoint's access by permission name, so a permission widened by
mistake (agents allowed to export a customer's whole record) would pass it; this does not."""

from __future__ import annotations

from helpdesk.auth import permissions
from helpdesk.auth.models import Role

A, S, D = Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER


def test_who_each_permission_names() -> None:
    assert {
        name: set(value)
        for name, value in vars(permissions).items()
        if name.isupper() and isinstance(value, tuple)
    } == {
        "STAFF": {A, S, D},
        "KB_WRITE": {A, S},
        "KB_DELETE": {S},
        "SUPERVISE": {S},
        "DISPATCH": {D, S},
        "PERSONAL_DATA": {S},
        "TRANSFER_OUT": {S},
        "ADMINISTER": {Role.ADMIN},
        "MAIL_INGRESS": {Role.INTEGRATION},
    }


def test_admins_pass_every_permission_and_others_only_theirs() -> None:
    from helpdesk.auth.models import User

    admin, dispatcher = User(role=Role.ADMIN), User(role=D)
    for name in ("STAFF", "KB_WRITE", "KB_DELETE", "SUPERVISE", "DISPATCH", "PERSONAL_DATA"):
        assert admin.has_role(*getattr(permissions, name)), name
    assert dispatcher.has_role(*permissions.DISPATCH)
    assert not dispatcher.has_role(*permissions.KB_WRITE)
    assert not dispatcher.has_role(*permissions.PERSONAL_DATA)
