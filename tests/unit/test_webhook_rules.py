"""The pure parts of outgoing webhooks: back-off and disabling, the address guard, signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.webhooks import addresses, signing
from helpdesk.webhooks.policy import RetryPolicy, succeeded

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_back_off_doubles_up_to_the_cap_and_gives_up():
    policy = RetryPolicy()
    waits = [policy.delay(n).total_seconds() for n in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == 3600 and policy.delay(100) == timedelta(hours=1)
    assert not policy.gives_up(7) and policy.gives_up(8)


@given(st.integers(min_value=1, max_value=10_000))
def test_back_off_never_shrinks(attempts):
    policy = RetryPolicy()
    assert policy.delay(attempts) <= policy.delay(attempts + 1) <= timedelta(hours=1)


def test_disabled_after_ten_failures_or_a_day_of_failing():
    policy = RetryPolicy()
    assert not policy.disables(9, NOW, NOW)
    assert policy.disables(10, NOW, NOW)
    assert not policy.disables(2, NOW - timedelta(hours=23), NOW)
    assert policy.disables(2, NOW - timedelta(hours=24), NOW)


def test_only_2xx_delivers():
    assert succeeded(200) and succeeded(204)
    assert not any(succeeded(c) for c in (None, 199, 301, 302, 400, 410, 500))


def _resolver(*found: str):
    return lambda host, port: list(found)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address to refuse, nothing binds to it
        "::1",
        "fc00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_private_and_reserved_addresses_are_refused(address):
    with pytest.raises(addresses.RefusedUrl):
        addresses.check(
            "https://hooks.example.com/x", allow_private=False, resolver=_resolver(address)
        )
    target = addresses.check(
        "https://hooks.example.com/x", allow_private=True, resolver=_resolver(address)
    )
    assert target.address == address


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(addresses.RefusedUrl):
        addresses.check(
            "http://mixed.example.com/",
            allow_private=False,
            resolver=_resolver("93.184.215.14", "10.0.0.2"),
        )


def test_a_public_address_is_pinned_with_its_path_and_port():
    target = addresses.check(
        "https://hooks.example.com:8443/in?x=1",
        allow_private=False,
        resolver=_resolver("93.184.215.14"),
    )
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "http://",
        "http://u:p@example.com/",
        "http://example.com/#frag",
        "http://example.com:99999/",
        "example.com/hook",
        "http://" + "a" * 2000 + ".com/",
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(addresses.RefusedUrl):
        addresses.check(url, allow_private=True, resolver=_resolver("93.184.215.14"))


def test_an_unresolvable_name_is_refused():
    def fails(host, port):
        raise OSError("no such host")

    with pytest.raises(addresses.RefusedUrl, match="cannot be resolved"):
        addresses.check("http://nowhere.invalid/", allow_private=True, resolver=fails)


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2**40))
def test_signatures_match_an_independent_hmac(body, timestamp):
    secret = "whsec_test"
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert signing.header(secret, timestamp, body) == f"t={timestamp},v1={expected.hexdigest()}"
    assert signing.verify(secret, signing.header(secret, timestamp, body), body, now=timestamp)


def test_verify_refuses_a_changed_body_another_secret_and_an_old_timestamp():
    value = signing.header("whsec_a", 1000, b"{}")
    assert not signing.verify("whsec_a", value, b"{ }", now=1000)
    assert not signing.verify("whsec_b", value, b"{}", now=1000)
    assert not signing.verify("whsec_a", value, b"{}", now=1000 + 301)
    assert not signing.verify("whsec_a", "garbage", b"{}", now=1000)


def test_secrets_are_long_random_and_labelled():
    one, two = signing.new_secret(), signing.new_secret()
    assert one != two and one.startswith("whsec_") and len(one) > 40


def test_the_api_offers_exactly_the_event_types_that_are_sent():
    from typing import get_args

    from helpdesk.webhooks.api import EventType
    from helpdesk.webhooks.policy import EVENT_TYPES

    assert get_args(EventType) == EVENT_TYPES
