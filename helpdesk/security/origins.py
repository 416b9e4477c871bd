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


def allowed_origin(origin: str | None, *, scheme: str, host: str, public_base_url: str) -> bool:
    """Whether a connection whose request says `Origin: origin` and `Host: host` may proceed."""
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
        and page.port == here.port
        and is_loopback_host(page.hostname or "")
        and is_loopback_host(here.hostname or "")
    )


def socketio_origin_check(public_base_url: str) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """The `cors_allowed_origins` callable for Engine.IO: it is given the origin and the WSGI
    environment of each handshake."""

    def check(origin: str | None, environ: Mapping[str, Any]) -> bool:
        return allowed_origin(
            origin,
            scheme=str(environ.get("wsgi.url_scheme") or "http"),
            host=str(environ.get("HTTP_HOST") or ""),
            public_base_url=public_base_url,
        )

    return check
