"""The help center's counters cannot be pumped: one view and one answer per visitor and article,
and a ceiling per address for clients that start a new session for every request."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.extensions import db, limiter
from kb.models import Article, ArticleVote
from tests.functional.test_console import SessionPerRequestClient, compiled_catalogues, html  # noqa: F401
from tests.functional.test_kb_console import article


@pytest.fixture(autouse=True)
def fresh_counters(app: Flask) -> None:
    with app.app_context():
        limiter.reset()


def _fresh(app: Flask) -> FlaskClient:
    """A new browser: no cookie, so a new help-center visitor."""
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


def _vote(client: FlaskClient, a: Article, answer: str) -> int:
    page = html(client.get(f"/help/fr/articles/{a.id}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"helpful": answer}
    if token:
        data["csrf_token"] = token.group(1)
    return client.post(f"/help/fr/articles/{a.id}/vote", data=data).status_code


def _counts(a: Article) -> tuple[int, int, int]:
    db.session.refresh(a)
    return a.views, a.helpful, a.not_helpful


def test_a_visitor_counts_one_view_per_article(app: Flask) -> None:
    a, b = article(title="Code PUK"), article(title="Code PIN")
    reader = _fresh(app)
    for _ in range(5):
        assert reader.get(f"/help/fr/articles/{a.id}").status_code == 200
    reader.get(f"/help/fr/articles/{b.id}")
    assert _counts(a)[0] == 1 and _counts(b)[0] == 1
    _fresh(app).get(f"/help/fr/articles/{a.id}")  # someone else
    assert _counts(a)[0] == 2


def test_cookieless_reloads_stop_counting_at_the_address_limit(app: Flask) -> None:
    app.config["HELPDESK_HELP_VIEW_LIMIT"] = "3 per day"
    a, other = article(title="Code PUK"), article(title="Code PIN")
    for _ in range(10):
        assert _fresh(app).get(f"/help/fr/articles/{a.id}").status_code == 200
    assert _counts(a)[0] == 3
    _fresh(app).get(f"/help/fr/articles/{other.id}")  # the limit is per article
    assert _counts(other)[0] == 1


def test_one_answer_per_visitor_which_they_may_change(app: Flask) -> None:
    a = article(title="Code PUK")
    visitor = _fresh(app)
    for _ in range(4):
        assert _vote(visitor, a, "yes") == 302
    assert _counts(a)[1:] == (1, 0)
    assert _vote(visitor, a, "no") == 302
    assert _counts(a)[1:] == (0, 1)
    assert "Votre réponse a été modifiée." in html(visitor.get(f"/help/fr/articles/{a.id}"))
    assert _vote(_fresh(app), a, "yes") == 302  # another visitor
    assert _counts(a)[1:] == (1, 1)
    assert db.session.query(ArticleVote).count() == 2


def test_a_replayed_old_cookie_votes_no_twice(app: Flask) -> None:
    """The session cookie is signed but not secret from its owner: an old copy is still valid.
    The vote is kept in the database under the visitor's id, so a replay counts nothing."""
    a = article(title="Code PUK")
    visitor = _fresh(app)
    page = html(visitor.get(f"/help/fr/articles/{a.id}"))
    cookie = visitor.get_cookie("session")
    assert cookie is not None
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"helpful": "yes", **({"csrf_token": token.group(1)} if token else {})}
    for _ in range(3):
        visitor.set_cookie("session", cookie.value)
        assert visitor.post(f"/help/fr/articles/{a.id}/vote", data=data).status_code == 302
    assert _counts(a)[1:] == (1, 0)


def test_new_session_per_vote_stops_at_the_address_limit(app: Flask) -> None:
    app.config["HELPDESK_HELP_VOTE_LIMIT"] = "3 per hour"
    a = article(title="Code PUK")
    answers = [_vote(_fresh(app), a, "no") for _ in range(5)]
    assert answers == [302, 302, 302, 429, 429]
    assert _counts(a)[1:] == (0, 3)
