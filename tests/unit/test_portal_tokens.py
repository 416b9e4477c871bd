"""What a customer types to sign in, and when a link may still be used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.portal import tokens

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "channel", "value"),
    [
        (" Ann.Lee@Example.COM ", "email", "ann.lee@example.com"),
        ("06 12 34 56 78", "sms", "+33612345678"),
        ("+1 (415) 555-0100", "sms", "+14155550100"),
    ],
)
def test_an_address_or_a_number_is_read(typed: str, channel: str, value: str) -> None:
    assert tokens.read_address(typed) == tokens.Address(channel, value)


@pytest.mark.parametrize(
    "typed", ["", "   ", "ann@localhost", "@example.com", "a b@x.org", "12", "x" * 300]
)
def test_anything_else_is_not_an_address(typed: str) -> None:
    assert tokens.read_address(typed) is None


def test_a_link_is_usable_once_and_until_it_expires() -> None:
    expires = NOW + tokens.LINK_TTL
    assert tokens.usable(expires_at=expires, used_at=None, now=NOW)
    assert not tokens.usable(expires_at=expires, used_at=NOW, now=NOW)
    assert not tokens.usable(expires_at=expires, used_at=None, now=expires)
    assert timedelta(minutes=15) == tokens.LINK_TTL


def test_secrets_are_random_and_only_their_digest_is_kept() -> None:
    first, second = tokens.new_secret(), tokens.new_secret()
    assert first != second and len(first) >= 43
    assert tokens.digest(first) == tokens.digest(first) != tokens.digest(second)
    assert first not in tokens.digest(first)


def test_only_known_languages_are_kept() -> None:
    assert tokens.locale_or("fr") == "fr"
    assert tokens.locale_or("de") == "en"
    assert tokens.locale_or(None, "fr") == "fr"
