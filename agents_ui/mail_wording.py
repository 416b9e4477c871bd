"""E-mail entries of the customer's timeline in the agent's language.

The inbound pipeline records each message as an `email` entry whose data says its direction, its
outcome (`created`, `threaded`, `bounced`, `ignored`...) and the names of its files, with an
English summary `E-mail from <address>: <subject>`. The address and subject are read from the
data where the entry carries them, else from that summary; `static/caller_screen.js` words the
entries the same way with `strings()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext, ngettext

# The stored English summary, read back (helpdesk.mail.inbound); the JS copy is in
# static/caller_screen.js.
SUMMARY = re.compile(r"^E-mail (?P<way>from|to) (?P<address>\S+?): ?(?P<subject>.*)$", re.S)


def _facts(data: Mapping[str, Any], summary: str) -> tuple[str, str, str] | None:
    """(direction, address, subject), None when neither the data nor the summary says."""
    found = SUMMARY.match(summary)
    direction = str(data.get("direction") or "")
    if not direction and found:
        direction = "inbound" if found["way"] == "from" else "outbound"
    address = str(data.get("address") or (found["address"] if found else ""))
    subject = str(data.get("subject") or (found["subject"] if found else ""))
    if not address:
        return None
    return direction, address, subject


def _attachments(data: Mapping[str, Any]) -> int:
    files = data.get("attachments")
    if isinstance(files, list):
        return len(files)
    return int(files) if isinstance(files, int) else 0


def email_text(data: Mapping[str, Any], summary: str) -> str:
    """`E-mail from manon@example.com: Router lost · 2 attachments`, or the stored summary."""
    if data.get("outcome") == "bounced":
        return str(gettext("A mail to this customer came back undelivered (bounce)"))
    facts = _facts(data, summary)
    if facts is None:
        return summary
    direction, address, subject = facts
    if direction == "outbound":
        text = gettext("E-mail to %(address)s: %(subject)s", address=address, subject=subject)
    else:
        text = gettext("E-mail from %(address)s: %(subject)s", address=address, subject=subject)
    parts = [str(text)]
    count = _attachments(data)
    if count:
        parts.append(str(ngettext("%(num)d attachment", "%(num)d attachments", count)))
    if data.get("outcome") == "ignored":
        parts.append(str(gettext("automatic, not acknowledged")))
    return " · ".join(parts)


def strings() -> dict[str, str]:
    """What the caller screen's script words e-mail entries with (as `email_text`)."""
    return {
        "from": str(
            gettext(
                "E-mail from %(address)s: %(subject)s", address="{address}", subject="{subject}"
            )
        ),
        "to": str(
            gettext("E-mail to %(address)s: %(subject)s", address="{address}", subject="{subject}")
        ),
        "bounced": str(gettext("A mail to this customer came back undelivered (bounce)")),
        "files_one": str(ngettext("%(num)d attachment", "%(num)d attachments", 1)),
        "files_other": str(ngettext("%(num)d attachment", "%(num)d attachments", 2)).replace(
            "2", "{n}"
        ),
        "ignored": str(gettext("automatic, not acknowledged")),
    }
