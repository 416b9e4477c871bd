"""Keeping post-login redirects on this site, and links from customers' messages harmless."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None.

    Only absolute paths are accepted. `//evil.example`, `/\\evil.example` and `https://...` are
    refused, because browsers read them as other hosts; so are control characters, which some
    browsers strip before deciding where a URL points.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def web_link(url: str | None) -> bool:
    """Whether a URL a customer sent (an MMS attachment) may be rendered as a link: http(s) with
    a host only. `javascript:`, `data:` and the like are shown as text; the page's CSP would stop
    them too, but a defence that depends on one header is one header from failing."""
    if not url or len(url) > 2000 or any(ord(ch) < 0x20 for ch in url):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_URL = re.compile(r"https?://[^\s<>\"']+")


def linked(text: str) -> Markup:
    """Plain text with its web addresses made links (the rest escaped): the mail simulator
    shows the helpdesk's own messages, whose sign-in and survey links a newcomer follows."""
    anchor = Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>')
    parts: list[Markup] = []
    last = 0
    for found in _URL.finditer(text):
        url = found.group(0).rstrip(".,;:)")
        parts.append(escape(text[last : found.start()]))
        parts.append(anchor.format(url) if web_link(url) else escape(url))
        last = found.start() + len(url)
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
