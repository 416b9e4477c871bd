"""The new part of a reply apart from the history it quotes.

A customer's reply usually carries the whole conversation below it; pasting that into every
comment buries what they said. The split is made on the text, at the first quote header the mail
programs write (Gmail and Apple Mail's "On … wrote:" and "Le … a écrit :", Outlook's "-----Original
Message-----", its underscore rule and "From:/Sent:" block in English and French), or at a final
run of ">"-quoted lines. `mail-parser-reply` covers more languages and signatures; its answer is
used when it finds a shorter, non-empty new part than these rules, so that neither can make a
reply vanish. A forwarded message is not history: it is what the customer wants read.

When nothing is left above the quote (a reply written below the quote, or a message that is all
quote), the whole text is the new part: never an empty comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_PATTERNS = (
    # "On Tue, 1 Dec 2026 at 10:02, Jean Martin <jean@example.com> wrote:" (one or two lines)
    re.compile(r"^\s*On\b.{0,300}?\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    # "Le mar. 1 déc. 2026 à 10:02, Jean Martin <jean@example.com> a écrit :"
    re.compile(r"^\s*Le\b.{0,300}?\ba\s+[ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(
        r"^\s*-{2,}\s*(Original Message|Message d'origine|Mensaje original)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
)
# Outlook's reply block: an optional rule, then "From:" and "Sent:"/"Date:" (or "De :" and
# "Envoyé :"), possibly bold in the text rendering of its HTML.
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De)\s*:\*?\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(Sent|Date|Envoy[ée]|To|À|A|Cc|Subject|Objet)\s*:\*?", re.IGNORECASE
)
_RULE = re.compile(r"^\s*_{20,}\s*$")
_QUOTED = re.compile(r"^\s*>")
_FORWARD = re.compile(
    r"^\s*(-{3,}\s*(Forwarded message|Message transf[ée]r[ée]|Original message follows)|"
    r"Begin forwarded message\s*:|D[ée]but du message r[ée]exp[ée]di[ée]\s*:)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Split:
    new: str
    quoted: str


def _header_at(lines: list[str], i: int) -> bool:
    one = lines[i]
    two = one + " " + lines[i + 1] if i + 1 < len(lines) else one
    if any(p.match(one) for p in _HEADER_PATTERNS):
        return True
    if one.strip() and any(p.match(two) for p in _HEADER_PATTERNS[:2]):
        return True
    if _RULE.match(one) and i + 1 < len(lines) and _OUTLOOK_FROM.match(lines[i + 1]):
        return True
    return bool(
        _OUTLOOK_FROM.match(one) and i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1])
    )


def _trailing_quote(lines: list[str]) -> int | None:
    """Where a final block of ">" lines (blank lines allowed inside) begins, if there is one."""
    start = None
    for i in range(len(lines) - 1, -1, -1):
        if _QUOTED.match(lines[i]):
            start = i
        elif lines[i].strip():
            break
    return start


def split_rules(text: str) -> Split:
    """The split by this module's own rules (see the module's docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = next((i for i in range(len(lines)) if _header_at(lines, i)), None)
    trailing = _trailing_quote(lines)
    if cut is None or (trailing is not None and trailing < cut):
        cut = trailing
    forward = next((i for i, line in enumerate(lines) if _FORWARD.match(line)), None)
    if forward is not None and (cut is None or forward < cut):
        cut = None  # a forward's content is what the customer wants read
    if cut is None:
        return Split(text.strip(), "")
    new = "\n".join(lines[:cut]).strip()
    if not new:
        return Split(text.strip(), "")
    return Split(new, "\n".join(lines[cut:]).strip())


def _library_new_part(text: str) -> str | None:
    try:
        from mailparser_reply import EmailReplyParser
    except ImportError:  # pragma: no cover - a dependency; the rules work without it
        return None
    try:
        reply = EmailReplyParser(languages=["en", "fr", "de"]).parse_reply(text=text)
    except Exception:
        return None
    return reply.strip() if isinstance(reply, str) else None


def split(text: str) -> Split:
    """The reply's new part and the history below it."""
    ours = split_rules(text)
    if _FORWARD.search(text):
        return ours
    theirs = _library_new_part(text)
    if theirs and len(theirs) < len(ours.new) and ours.new.startswith(theirs[:40]):
        rest = text.strip()[len(theirs) :].strip() if text.strip().startswith(theirs) else ""
        return Split(theirs, rest or ours.quoted)
    return ours
