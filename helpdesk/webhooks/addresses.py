"""Which URLs a subscription may name: the guard against server-side request forgery.

A webhook makes the server send requests to an address an administrator (or a stolen admin
token) chose. Left open, that reaches the database, Redis, a cloud metadata service or an
intranet page from inside the network. So a URL must be http(s), carry no credentials, and its
host must resolve only to public addresses, unless `WEBHOOKS_ALLOW_PRIVATE` is on (tests, the
demo, a receiver on the same host). The check runs at creation and again at every delivery, and
the delivery connects to the address that was checked, so a name re-pointed in DNS afterwards
(rebinding) reaches nothing private.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_CHARS = 2000
Resolver = Callable[[str, int], list[str]]


class RefusedUrl(ValueError):
    """Why a URL cannot receive webhooks (said to the administrator as is)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP address to connect to


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse(url: str) -> SplitResult:
    """The URL's parts, or `RefusedUrl` saying what is wrong with its form."""
    if len(url) > MAX_URL_CHARS:
        raise RefusedUrl(f"at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise RefusedUrl("not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("must start with http:// or https://")
    if not parts.hostname:
        raise RefusedUrl("must name a host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("must not carry a user name or password")
    if parts.fragment:
        raise RefusedUrl("must not carry a #fragment")
    return parts


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """The URL's target with the address to connect to, or `RefusedUrl`."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise RefusedUrl(f"the host {host} cannot be resolved") from exc
    if not addresses:
        raise RefusedUrl(f"the host {host} cannot be resolved")
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise RefusedUrl(
                    f"the host {host} is a loopback, private or reserved address ({address})"
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])
