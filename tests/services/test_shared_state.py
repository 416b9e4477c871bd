"""State that several web processes must share lives in Redis when REDIS_URL is set."""

from __future__ import annotations

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db


def test_healthz_with_postgres_and_redis(settings, redis_url):
    settings.REDIS_URL = redis_url
    app = create_app(settings)
    body = app.test_client().get("/healthz").get_json()
    assert body["database"]["backend"] == "postgresql" and body["database"]["ok"] is True
    assert body["broker"]["backend"] == "redis" and body["broker"]["ok"] is True
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_throttle_is_shared_between_processes(settings, database, redis_url):
    """Two app instances stand for two web processes: failures on one count on the other."""
    settings.REDIS_URL = redis_url
    settings.HELPDESK_LOGIN_LIMIT = "3 per minute"
    first, second = create_app(settings), create_app(settings)
    with first.app_context():
        auth.create_user(
            session=db.session, email="t@example.com", password="longenough", role=Role.AGENT
        )
    bad = {"email": "t@example.com", "password": "wrong"}
    assert first.test_client().post("/api/v1/auth/token", json=bad).status_code == 401
    assert second.test_client().post("/api/v1/auth/token", json=bad).status_code == 401
    assert first.test_client().post("/api/v1/auth/token", json=bad).status_code == 401
    r = second.test_client().post(
        "/api/v1/auth/token", json={"email": "t@example.com", "password": "longenough"}
    )
    assert r.status_code == 429
    import redis

    # The counters are in Redis, where another host's web process would see them too.
    keys = redis.Redis.from_url(redis_url).keys("LIMITS*")
    assert any(b"login-account:t@example.com" in k for k in keys), keys
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    database.reset()


def test_ticket_viewers_are_shared_through_redis(redis_url):
    from helpdesk.viewers import from_url

    one, two = from_url(redis_url), from_url(redis_url)  # two web processes
    assert one.add(5, "sid-a", {"id": 1, "name": "Ana"}) == [{"id": 1, "name": "Ana"}]
    assert [v["name"] for v in two.add(5, "sid-b", {"id": 2, "name": "Bob"})] == ["Ana", "Bob"]
    assert two.add(5, "sid-c", {"id": 2, "name": "Bob"}) == one.remove(5, "nobody")  # one Bob
    assert one.remove(5, "sid-a") == [{"id": 2, "name": "Bob"}]
