"""Which origins may open the console's live connection (helpdesk.security.origins)."""

from __future__ import annotations

import pytest

from helpdesk.security.origins import allowed_origin, live_url, loopback_variants, origin_of

PUBLIC = "http://127.0.0.1:5301"


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1:5301", "127.0.0.1:5301"),  # the public address itself
        ("http://localhost:5301", "localhost:5301"),  # the other loopback name, same port
        ("http://localhost:5302", "localhost:5302"),  # another port than PUBLIC_BASE_URL says
        ("http://127.0.0.2:8000", "127.0.0.2:8000"),
        ("http://[::1]:5301", "[::1]:5301"),
        ("http://LOCALHOST:5301", "localhost:5301"),
        # A page under one loopback name reaching the server under another, on its port.
        ("http://localhost:5391", "127.0.0.1:5391"),
        ("http://127.0.0.1:5391", "localhost:5391"),
        ("http://[::1]:5391", "127.0.0.1:5391"),
        (None, "anything"),  # no Origin: not a browser
    ],
)
def test_the_consoles_own_loopback_origin_is_accepted(origin: str | None, host: str) -> None:
    assert allowed_origin(origin, scheme="http", host=host, public_base_url=PUBLIC)


def test_the_public_address_is_accepted_through_a_proxy() -> None:
    assert allowed_origin(
        "https://help.example.com",
        scheme="http",
        host="127.0.0.1:5000",
        public_base_url="https://help.example.com/",
    )


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://evil.example", "127.0.0.1:5301"),  # a foreign page (cross-site hijacking)
        ("http://localhost:5999", "localhost:5301"),  # another local service's page
        ("http://evil.example:5301", "evil.example:5301"),  # DNS rebinding: same host, not ours
        ("null", "127.0.0.1:5301"),  # sandboxed frames and file: pages
        ("javascript://127.0.0.1:5301", "127.0.0.1:5301"),
        ("https://127.0.0.1:5301", "127.0.0.1:5301"),  # scheme differs from the request's
        ("http://localhost:5999", "127.0.0.1:5301"),  # a loopback page on another port
        ("http://localhost:5301", "help.example.com:5301"),  # the server reached by a public name
        ("http://evil.example:5301", "127.0.0.1:5301"),  # a foreign page on the same port
    ],
)
def test_foreign_origins_are_refused(origin: str, host: str) -> None:
    assert not allowed_origin(origin, scheme="http", host=host, public_base_url=PUBLIC)


def test_origin_of_drops_default_ports_and_paths() -> None:
    assert origin_of("https://Help.Example.com:443/x?y") == "https://help.example.com"
    assert origin_of("http://127.0.0.1:80/") == "http://127.0.0.1"
    assert origin_of("ftp://x") is None
    assert origin_of("http://x:notaport") is None


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("http://example.com/photo.jpg", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https:///nohost", False),
        ("https://example.com/\nx", False),
        ("", False),
    ],
)
def test_only_web_links_from_customers_are_rendered_as_links(url: str, linked: bool) -> None:
    from agents_ui.safety import web_link

    assert web_link(url) is linked


def test_float_settings_from_the_environment_are_numbers(tmp_path: object) -> None:
    from helpdesk.config import Settings

    settings = Settings.from_env(
        {
            "HELPDESK_SL_THRESHOLD_S": "30",
            "HELPDESK_SL_TARGET": "0.9",
            "HELPDESK_INSTANCE_PATH": str(tmp_path),
        }
    )
    assert settings.HELPDESK_SL_THRESHOLD_S == 30.0 and settings.HELPDESK_SL_TARGET == 0.9


# -- the sockets process, reached directly (SOCKETS_PUBLIC_URL) ----------------------------------


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:5000", "127.0.0.1:5001"),  # the console's page, on the web port
        ("http://127.0.0.1:5000", "127.0.0.1:5001"),
        ("http://localhost:8123", "localhost:5001"),  # whatever port the web line serves on
        ("http://[::1]:5000", "127.0.0.1:5001"),
    ],
)
def test_the_sockets_process_takes_a_loopback_page_from_any_port(origin: str, host: str) -> None:
    assert allowed_origin(origin, scheme="http", host=host, public_base_url=PUBLIC, any_port=True)
    # A process serving its own pages still wants its own port.
    assert not allowed_origin(origin, scheme="http", host=host, public_base_url=PUBLIC)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://evil.example", "127.0.0.1:5001"),
        ("http://evil.example:5000", "evil.example:5001"),  # DNS rebinding, even on any port
        ("https://localhost:5000", "127.0.0.1:5001"),  # another scheme
        ("http://localhost:5000", "help.example.com:5001"),  # reached under a public name
        ("null", "127.0.0.1:5001"),
    ],
)
def test_the_sockets_process_still_refuses_foreign_pages(origin: str, host: str) -> None:
    assert not allowed_origin(
        origin, scheme="http", host=host, public_base_url=PUBLIC, any_port=True
    )


@pytest.mark.parametrize(
    ("configured", "page_host", "expected"),
    [
        ("", "127.0.0.1:5000", ""),  # the page's own origin: embedded, or behind a proxy
        ("http://127.0.0.1:5001", "127.0.0.1:5000", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001", "localhost:5000", "http://localhost:5001"),  # the page's name
        ("http://localhost:5001/", "[::1]:5000", "http://localhost:5001"),  # not in a policy
        ("http://127.0.0.1:5001", "127.0.0.2:5000", "http://127.0.0.1:5001"),
        ("https://live.example.com", "help.example.com", "https://live.example.com"),
        ("http://127.0.0.1:5001", "help.example.com", "http://127.0.0.1:5001"),
        ("not a url", "127.0.0.1:5000", ""),
    ],
)
def test_where_a_console_page_opens_its_live_connection(
    configured: str, page_host: str, expected: str
) -> None:
    assert live_url(configured, page_host=page_host) == expected


def test_a_loopback_sockets_address_is_allowed_under_every_loopback_name() -> None:
    assert loopback_variants("http://127.0.0.1:5001") == [
        "http://localhost:5001",
        "http://127.0.0.1:5001",
    ]
    # An IPv6 literal is not a valid source in a content security policy.
    assert loopback_variants("http://[::1]:5001") == [
        "http://localhost:5001",
        "http://127.0.0.1:5001",
    ]
    assert loopback_variants("https://live.example.com/") == ["https://live.example.com"]
    assert loopback_variants("") == []
