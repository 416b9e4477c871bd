from __future__ import annotations

from helpdesk.config import Settings


def test_embedded_defaults(tmp_path):
    s = Settings.from_env(env={"HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}" == s.DATABASE_URL
    assert s.telephony_backend == "simulator"
    assert s.REDIS_URL == ""
    # Secrets are generated once and kept, so sessions survive a restart.
    again = Settings.from_env(env={"HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert s.SECRET_KEY == again.SECRET_KEY and len(s.SECRET_KEY) > 30
    assert s.TWILIO_AUTH_TOKEN == again.TWILIO_AUTH_TOKEN
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_scaled_out_from_environment(tmp_path):
    s = Settings.from_env(
        env={
            "HELPDESK_INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db/helpdesk",
            "REDIS_URL": "redis://r:6379/0",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "secret",
            "SESSION_COOKIE_SECURE": "true",
            "HELPDESK_AUTO_CLOSE_DAYS": "7",
        }
    )
    assert s.DATABASE_URL == "postgresql+psycopg://u:p@db/helpdesk"
    assert s.telephony_backend == "twilio"
    assert s.SESSION_COOKIE_SECURE is True
    assert s.HELPDESK_AUTO_CLOSE_DAYS == 7
    assert s.flask_config()["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


def test_sid_without_token_stays_on_simulator(tmp_path):
    s = Settings.from_env(
        env={"HELPDESK_INSTANCE_PATH": str(tmp_path), "TWILIO_ACCOUNT_SID": "AC1"}
    )
    assert s.telephony_backend == "simulator"
