"""Security headers on every response, and the console's Content-Security-Policy.

The console loads nothing but its own static assets and talks to its own origin (HTTP and the
Socket.IO websocket), so the policy allows `'self'` and nothing inline: an injected `<script>` or
`onerror=` attribute does not run even if escaping were ever missed. Only when Twilio is configured
does the browser also need Twilio's hosts, for the Voice SDK's signalling websocket, its event
gateway and its ring tones; the policy follows configuration rather than always allowing them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from helpdesk.security.origins import loopback_variants

# The Voice SDK signals over wss to *.twilio.com, reports to https://eventgw.twilio.com and plays
# its sounds from https://sdk.twilio.com.
TWILIO_CONNECT_SOURCES = ("https://*.twilio.com", "wss://*.twilio.com")
TWILIO_MEDIA_SOURCES = ("https://sdk.twilio.com",)
HSTS = "max-age=31536000; includeSubDomains"


def websocket_origin(public_base_url: str) -> str | None:
    """`wss://host` for an https site, `ws://host` for http: the Socket.IO upgrade's origin.

    CSP Level 3 browsers already let `'self'` cover the websocket of the page's own origin; the
    explicit source keeps the console working in browsers that predate it.
    """
    parts = urlsplit(public_base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def content_security_policy(
    *, twilio: bool, public_base_url: str, sockets_public_url: str = ""
) -> str:
    connect = ["'self'"]
    ws = websocket_origin(public_base_url)
    if ws:
        connect.append(ws)
    # The sockets process reached directly: its polling (http) and websocket (ws) addresses,
    # under each loopback name a page may use (helpdesk.security.origins.live_url).
    for origin in loopback_variants(sockets_public_url):
        connect.extend([origin, websocket_origin(origin) or origin])
    media = ["'self'"]
    if twilio:
        connect.extend(TWILIO_CONNECT_SOURCES)
        media.extend(TWILIO_MEDIA_SOURCES)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src {' '.join(connect)}",
        f"media-src {' '.join(media)}",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def init_security_headers(app: Flask) -> None:
    """Attach the headers to every response the app sends (pages, API, webhooks, assets)."""
    policy = content_security_policy(
        twilio=app.config.get("HELPDESK_TELEPHONY_BACKEND") == "twilio",
        public_base_url=str(app.config.get("PUBLIC_BASE_URL") or ""),
        sockets_public_url=str(app.config.get("SOCKETS_PUBLIC_URL") or ""),
    )
    app.config["HELPDESK_CONTENT_SECURITY_POLICY"] = policy
    defaults = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), geolocation=(), microphone=(self)"),
        ("Content-Security-Policy", policy),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Only once the site is served over TLS (secure cookies say it is): a browser that saw
        # HSTS over plain HTTP in development would refuse the site until it expired.
        defaults.append(("Strict-Transport-Security", HSTS))
    by_name = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # A view's own value of a header wins. One pass over the response's headers instead of
        # one per header (`setdefault` scans them each time): this runs on every request.
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        for lowered, name, value in by_name:
            if lowered not in present:
                headers.add(name, value)
        return response
