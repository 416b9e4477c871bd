"""NUL characters at the edge.

PostgreSQL's text types cannot hold U+0000: a value carrying one fails in the driver, deep inside
a transaction, as a 500 that loses the request (an inbound text, a sign-in). No one types a NUL,
so the edge removes it from forms and query strings (console pages, Twilio webhooks: the
message is kept, the character dropped), and the API refuses it with a 422 naming the field
(`helpdesk.api.core`), since a client that sends one has a bug worth hearing about.

Twilio signs the values as it sent them, so webhooks strip only after the signature is checked.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

NUL = "\x00"


def _clean(values: MultiDict[str, str]) -> ImmutableMultiDict[str, str] | None:
    if not any(NUL in k or NUL in v for k, v in values.items(multi=True)):
        return None
    return ImmutableMultiDict(
        [(k.replace(NUL, ""), v.replace(NUL, "")) for k, v in values.items(multi=True)]
    )


def strip_from_request() -> None:
    """Replace the request's parsed form and query string by copies without NUL characters.

    Werkzeug caches both on the request object, so every later reader sees the clean copies.
    """
    form = _clean(request.form)
    if form is not None:
        request.__dict__["form"] = form
    args = _clean(request.args)
    if args is not None:
        request.__dict__["args"] = args


def init_nul_stripping(app: Flask, *, skip_prefixes: tuple[str, ...]) -> None:
    """Strip on every request except under `skip_prefixes` (the API refuses, webhooks strip
    after their signature check)."""

    @app.before_request
    def _strip() -> None:
        if request.path.startswith(skip_prefixes):
            return
        strip_from_request()
