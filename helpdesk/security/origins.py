"""Which browser origins may open the console's live connection (Socket.IO).

A websocket is not bound by the same-origin policy: any page a staff member visits could open one
to the helpdesk with their cookie unless the server checks `Origin` (cross-site websocket
hijacking). Yet a check against one configured address broke the console for everyone who
browsed it under another loopback name or port than `PUBLIC_BASE_URL` said. So two origins pass:

- the public address (`PUBLIC_BASE_URL`), where the console is reached behind a proxy;
- a loopback page on this server's port, when the request reached it under a loopback name:
  `Origin` and `Host` both name this machine (`localhost`, `127.x.y.z`, `[::1]`, in any mix, as
  when a page opened under `localhost` talks to `127.0.0.1`) with the same scheme and port, and
  one server listens on a port.

The Procfile's `sockets` process, reached directly (no proxy; `SOCKETS_PUBLIC_URL`), serves
its own port while the console's pages come from the web processes' port: there the second rule
takes a loopback page on any port (`any_port`). Another program's page on this machine could
then open the handshake, but the connection itself still needs a socket token, which only a page
of the console's own origin can read.

The second rule is limited to loopback names because a same-host check alone accepts a DNS
rebinding page (`evil.example` resolving to this machine sends matching `Origin` and `Host`), and
a loopback page's origin cannot be taken by another site.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased, default ports dropped; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def is_loopback_host(hostname: str) -> bool:
    name = hostname.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_origin(
    origin: str | None, *, scheme: str, host: str, public_base_url: str, any_port: bool = False
) -> bool:
    """Whether a connection whose request says `Origin: origin` and `Host: host` may proceed;
    `any_port` for the sockets process, whose pages come from another port."""
    if not origin:
        # Not a browser (API clients, the python-socketio client): nothing to hijack.
        return True
    seen = origin_of(origin)
    if seen is None:
        return False
    if seen == origin_of(public_base_url):
        return True
    own = origin_of(f"{scheme}://{host}")
    if own is None:
        return False
    page, here = urlsplit(seen), urlsplit(own)
    return (
        page.scheme == here.scheme
        and (any_port or page.port == here.port)
        and is_loopback_host(page.hostname or "")
        and is_loopback_host(here.hostname or "")
    )


def socketio_origin_check(
    public_base_url: str, *, any_port: bool = False
) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """The `cors_allowed_origins` callable for Engine.IO: it is given the origin and the WSGI
    environment of each handshake."""

    def check(origin: str | None, environ: Mapping[str, Any]) -> bool:
        return allowed_origin(
            origin,
            scheme=str(environ.get("wsgi.url_scheme") or "http"),
            host=str(environ.get("HTTP_HOST") or ""),
            public_base_url=public_base_url,
            any_port=any_port,
        )

    return check


def live_url(sockets_public_url: str, *, page_host: str) -> str:
    """Where a console page served under `page_host` opens its live connection: `""` for its
    own origin, else the sockets process's address. A loopback address is given under the
    page's own loopback name (a page opened under `localhost` connects to `localhost:5001`, one
    under `127.0.0.1` to `127.0.0.1:5001`), so that what the browser sees stays on one name."""
    seen = origin_of(sockets_public_url) if sockets_public_url else None
    if seen is None:
        return ""
    parts = urlsplit(seen)
    page = urlsplit(f"//{page_host}")
    try:
        page_name = page.hostname
    except ValueError:
        return seen
    # Only the two names the content security policy lists (loopback_variants; an IPv6 literal
    # cannot be named there at all): a page under another loopback name keeps the configured
    # one, which the origin check takes all the same.
    if page_name not in ("localhost", "127.0.0.1") or not is_loopback_host(parts.hostname or ""):
        return seen
    return f"{parts.scheme}://{page_name}" + (f":{parts.port}" if parts.port else "")


def loopback_variants(url: str) -> list[str]:
    """The origins a loopback `url` may be reached under (see `live_url`): its own, `localhost`
    and `127.0.0.1`; `[url]` otherwise."""
    seen = origin_of(url) if url else None
    if seen is None:
        return []
    parts = urlsplit(seen)
    if not is_loopback_host(parts.hostname or ""):
        return [seen]
    port = f":{parts.port}" if parts.port else ""
    named = [f"{parts.scheme}://{name}{port}" for name in ("localhost", "127.0.0.1")]
    own = [] if seen in named or ":" in (parts.hostname or "") else [seen]
    return named + own
