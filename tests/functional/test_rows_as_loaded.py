"""Rows rebuilt from cached columns (`helpdesk.db.as_loaded`, `in_session`): they behave as rows
the session read, whether built straight into their state or, for a model with change
listeners, through the constructor."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from helpdesk.auth.models import Role, User
from helpdesk.db import as_loaded, column_values, in_session
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel, SlaPolicy
from tests.statements import statements


def _fresh(row):
    """The row's columns as another request would find them in the cache."""
    values = column_values(row)
    db.session.expunge_all()
    return values


def test_a_cached_user_becomes_a_clean_persistent_row_whose_changes_are_flushed(app, make_user):
    values = _fresh(make_user(Role.AGENT, email="cached-row@example.com", name="Before"))
    user = in_session(db.session, User, values)
    state = inspect(user)
    assert state.persistent and not db.session.dirty
    assert user.email == "cached-row@example.com" and user.role is Role.AGENT
    user.name = "After"
    assert user in db.session.dirty
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(User, values["id"]).name == "After"


def test_the_session_s_own_row_wins_with_its_pending_changes(app, make_user):
    values = _fresh(make_user(Role.AGENT, email="held-row@example.com"))
    held = db.session.get(User, values["id"])
    held.name = "Pending change"
    assert in_session(db.session, User, values) is held
    assert held.name == "Pending change"


def test_a_model_with_a_mutable_column_is_built_through_its_constructor(app):
    calendar = CalendarModel(name="Always", timezone="UTC", weekly={})
    db.session.add(calendar)
    db.session.flush()
    policy = SlaPolicy(name="Tracked", calendar_id=calendar.id, targets={"normal": {}})
    db.session.add(policy)
    db.session.commit()
    values = _fresh(policy)
    rebuilt = in_session(db.session, SlaPolicy, values)
    rebuilt.targets["urgent"] = {"first_response": 60}  # an in-place change
    assert rebuilt in db.session.dirty
    assert values["targets"] == {"normal": {}}  # the cached copy is untouched
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(SlaPolicy, values["id"]).targets["urgent"] == {"first_response": 60}


def test_an_unknown_column_is_refused(app):
    with pytest.raises(TypeError, match="no column 'nickname'"):
        as_loaded(User, {"id": 1, "nickname": "x"})


def test_what_a_commit_expired_is_filled_in_from_the_values_without_a_read(app, make_user):
    user = make_user(Role.AGENT, email="expired-row@example.com", name="Kept")
    values = column_values(user)
    db.session.commit()  # the session keeps the object, its columns expired
    with statements() as seen:
        same = in_session(db.session, User, values)
        assert same is user
        assert (same.name, same.role) == ("Kept", Role.AGENT)
    assert not [s for s in seen if "FROM users" in s]
