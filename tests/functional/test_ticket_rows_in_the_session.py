"""What a create or a comment attaches to the session without reading it back behaves as a row
read from the database: a rollback takes it away again, the session's own changes to an agent
or a group are kept and judged, and a rolled-back change never reaches the per-process caches."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Group, Role, User
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Comment, Ticket


def test_a_rolled_back_deactivation_is_not_remembered(app, make_user, customer_factory):
    agent = make_user(Role.AGENT, email="stays@example.com")
    customer_id, agent_id = customer_factory().id, agent.id
    agent.active = False
    db.session.flush()
    with pytest.raises(ValidationFailed):
        service.create(
            db.session, actor=None, subject="a", requester_id=customer_id, assignee_id=agent_id
        )
    db.session.rollback()
    db.session.expunge_all()
    ticket = service.create(
        db.session, actor=None, subject="b", requester_id=customer_id, assignee_id=agent_id
    )
    assert ticket.assignee_id == agent_id


def test_the_sessions_own_changes_to_an_agent_are_kept(app, make_user, customer_factory):
    agent = make_user(Role.AGENT, email="renamed@example.com", name="Old Name")
    customer = customer_factory()
    service.create(
        db.session, actor=None, subject="warm", requester_id=customer.id, assignee_id=agent.id
    )
    agent = db.session.get(User, agent.id)
    agent.name = "New Name"
    service.create(
        db.session, actor=agent, subject="c", requester_id=customer.id, assignee_id=agent.id
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, agent.id).name == "New Name"


def test_a_group_renamed_in_this_transaction_is_the_one_the_ticket_shows(app, customer_factory):
    group = Group(name="Before")
    db.session.add(group)
    db.session.commit()
    customer_id, group_id = customer_factory().id, group.id
    service.create(
        db.session, actor=None, subject="warm", requester_id=customer_id, group_id=group_id
    )
    db.session.get(Group, group_id).name = "After"
    ticket = service.create(
        db.session,
        actor=None,
        subject="d",
        requester_id=customer_id,
        group_id=group_id,
        commit=False,
    )
    assert ticket.group.name == "After"
    db.session.rollback()
    db.session.expunge_all()
    again = service.create(
        db.session,
        actor=None,
        subject="e",
        requester_id=customer_id,
        group_id=group_id,
        commit=False,
    )
    assert again.group.name == "Before"


def test_a_rollback_takes_the_new_ticket_and_comment_away(app, customer_factory):
    customer = customer_factory()
    kept = service.create(db.session, actor=None, subject="kept", requester_id=customer.id)
    kept_id, stamped = kept.id, kept.updated_at
    savepoint = db.session.begin_nested()
    gone = service.create(
        db.session, actor=None, subject="gone", requester_id=customer.id, commit=False
    )
    note = service.add_comment(
        db.session, db.session.get(Ticket, kept_id), body="x", public=False, commit=False
    )
    gone_id, note_id = gone.id, note.id
    savepoint.rollback()
    assert db.session.get(Comment, note_id) is None
    assert db.session.get(Ticket, gone_id) is None
    assert db.session.get(Ticket, kept_id).updated_at == stamped
    db.session.rollback()
    # SQLite hands the ids out again: the next rows must not meet the rolled-back objects.
    again = service.create(db.session, actor=None, subject="again", requester_id=customer.id)
    service.add_comment(db.session, again, body="y", public=False)
    assert db.session.scalar(select(Ticket.subject).where(Ticket.id == again.id)) == "again"
