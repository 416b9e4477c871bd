"""Which passwords staff may choose, after NIST SP 800-63B (section 5.1.1.2).

No composition rules (they make passwords harder to remember, not to guess): a length floor, and
a refusal of what attackers try first. zxcvbn (Dropbox's estimator) carries the lists that NIST
asks for, namely passwords from breach corpora, dictionary words, keyboard patterns, sequences and
repetitions, and it takes the context-specific words: the user's e-mail, name and the product's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

from helpdesk.errors import FieldReason

MIN_LENGTH = 8
MAX_LENGTH = 1000
# zxcvbn scores 0 to 4; 0 means guessed in under 10^3 tries (a top password, "12345678").
MIN_SCORE = 1
# A password that is mostly the user's own details is refused even if long.
MAX_SHARE_OF_OWN_DETAILS = 0.5
SERVICE_WORDS = ("helpdesk", "support", "callcenter")
# zxcvbn knows QWERTY and Dvorak; French and German staff type on these.
KEYBOARD_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn", "qwertzuiop", "yxcvbnm")
ZXCVBN_MAX = 72  # zxcvbn refuses longer input; its verdict no longer changes past that


def _own_share(password: str, details: Iterable[str]) -> float:
    """The share of the password's characters that spell one of the user's own details."""
    lowered = password.lower()
    covered = [False] * len(lowered)
    for word in details:
        start = lowered.find(word)
        while start != -1:
            for i in range(start, start + len(word)):
                covered[i] = True
            start = lowered.find(word, start + 1)
    return sum(covered) / len(lowered) if lowered else 0.0


def _keyboard_row(password: str) -> bool:
    lowered = password.lower()
    return any(lowered in row or lowered in row[::-1] for row in KEYBOARD_ROWS)


def context_words(email: str, name: str | None) -> list[str]:
    """The e-mail's parts and the name's words (3 letters or more), lower-cased."""
    words = set(SERVICE_WORDS)
    for part in re.split(r"[^\w]+", f"{email} {name or ''}".lower()):
        if len(part) >= 3:
            words.add(part)
    return sorted(words)


# zxcvbn's warnings (in English only), by the code the console words them with.
WARNINGS = {
    "Straight rows of keys are easy to guess.": "keyboard_row",
    "Short keyboard patterns are easy to guess.": "keyboard_pattern",
    'Repeats like "aaa" are easy to guess.': "repeat",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "repeat",
    'Sequences like "abc" or "6543" are easy to guess.': "sequence",
    "Recent years are easy to guess.": "year",
    "Dates are often easy to guess.": "date",
    "This is a top-10 common password.": "common",
    "This is a top-100 common password.": "common",
    "This is a very common password.": "common",
    "This is similar to a commonly used password.": "like_common",
    "A word by itself is easy to guess.": "word",
    "Names and surnames by themselves are easy to guess.": "name",
    "Common names and surnames are easy to guess.": "name",
}


def problem(password: str, *, own_details: Iterable[str] = ()) -> FieldReason | None:
    """Why this password is refused, in a sentence the form can show; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return FieldReason(f"at least {MIN_LENGTH} characters", "too_short", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return FieldReason(f"at most {MAX_LENGTH} characters", "too_long", max=MAX_LENGTH)
    details = [d.lower() for d in own_details if len(d) >= 3]
    if _own_share(password, details) >= MAX_SHARE_OF_OWN_DETAILS:
        return FieldReason(
            "too close to your e-mail, your name or the product's name", "password_own_details"
        )
    if _keyboard_row(password):
        return FieldReason(
            "too easy to guess: a row of the keyboard", "password_guessable", hint="keyboard_row"
        )
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=details)
    if result["score"] < MIN_SCORE:
        warning = str(result["feedback"].get("warning") or "")
        english = "too easy to guess" + (f": {warning.rstrip('.').lower()}" if warning else "")
        return FieldReason(english, "password_guessable", hint=WARNINGS.get(warning, ""))
    return None
