"""Text handling shared by every search backend: no database, no search library.

A user's query is never handed to a query parser. It is read here into plain words and quoted
phrases, so stray quotes, brackets, `AND`/`OR`/`NOT`, wildcards or an empty string can never make a
backend raise: each backend builds its query from these words only.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import OSA

# Words and numbers, Unicode-aware; apostrophes split French elisions (l'imprimante -> imprimante).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')
# Hyphenated compounds (`Wi-Fi`, `e-mail`, `rendez-vous`), with the Unicode hyphens too.
_HYPHEN = "-\u2010\u2011"
# Starts only where a word starts, and runs possessively: a long word without a hyphen is read
# once, not retried from each of its letters (quadratic: 18 s for one 20,000-letter word).
_COMPOUND = re.compile(rf"(?<![^\W_])[^\W_]++(?:[{_HYPHEN}][^\W_]++)+")
# Query-language words a user may type out of habit; they carry no meaning for us.
_OPERATORS = frozenset({"and", "or", "not", "et", "ou", "sauf", "near"})
_ELISIONS = frozenset({"l", "d", "s", "qu", "n", "j", "m", "t", "c", "jusqu", "lorsqu", "puisqu"})
MAX_TERMS = 16
MAX_QUERY_CHARS = 500

# Small stop lists, used only to choose which query words matter for typo correction and
# snippets; the backends apply their own stemming and stop words.
STOP_WORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "du",
            "de",
            "d",
            "l",
            "au",
            "aux",
            "et",
            "ou",
            "en",
            "a",
            "à",
            "ne",
            "pas",
            "plus",
            "mon",
            "ma",
            "mes",
            "ton",
            "ta",
            "tes",
            "son",
            "sa",
            "ses",
            "ce",
            "cet",
            "cette",
            "ces",
            "qui",
            "que",
            "quoi",
            "est",
            "sont",
            "suis",
            "pour",
            "par",
            "sur",
            "dans",
            "avec",
            "sans",
            "je",
            "tu",
            "il",
            "elle",
            "on",
            "nous",
            "vous",
            "ils",
            "elles",
            "me",
            "te",
            "se",
            "y",
            "comment",
            "pourquoi",
            "quand",
            "faire",
            "fait",
        ]
    ),
    "en": frozenset(
        [
            "a",
            "an",
            "the",
            "and",
            "or",
            "of",
            "to",
            "in",
            "on",
            "at",
            "for",
            "with",
            "without",
            "is",
            "are",
            "was",
            "be",
            "been",
            "my",
            "your",
            "his",
            "her",
            "its",
            "our",
            "their",
            "this",
            "that",
            "these",
            "those",
            "it",
            "i",
            "you",
            "he",
            "she",
            "we",
            "they",
            "me",
            "how",
            "why",
            "when",
            "what",
            "do",
            "does",
            "not",
            "no",
            "can",
            "cannot",
            "can't",
            "won't",
            "doesn't",
            "don't",
        ]
    ),
}


def fold(text: str) -> str:
    """Lower case without accents: `Écran` -> `ecran`, `Noël` -> `noel`, `œ` -> `oe`."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def compounds(text: str) -> list[str]:
    """The hyphenated compounds of `text` written as one word, folded: `Wi-Fi` -> `wifi`.

    People write `wifi`, `wi-fi` and `Wi-Fi` for the same thing, and a tokenizer splits the
    hyphenated forms into two short words that `wifi` does not match. Both backends index these
    joined forms beside the text, and `parse_query` reads a hyphenated query word as its joined
    form, so every spelling meets every other."""
    found: dict[str, None] = {}
    for match in _COMPOUND.finditer(text):
        parts = re.split(f"[{_HYPHEN}]", match.group(0))
        joined = fold("".join(parts))
        if len(parts) <= 4 and len(joined) <= 40 and any(c.isalpha() for c in joined):
            found[joined] = None
    return list(found)


def with_compounds(text: str) -> str:
    """`text` followed by its joined compounds (what the backends index)."""
    found = compounds(text)
    return text + "\n" + " ".join(found) if found else text


def _join_compounds(text: str) -> str:
    """Each hyphenated compound of a query as the one word the index also holds."""
    return _COMPOUND.sub(lambda m: re.sub(f"[{_HYPHEN}]", "", m.group(0)), text)


def words(text: str) -> list[str]:
    """The words of `text`, folded, with French elided articles dropped."""
    return [w for w in _WORD.findall(fold(text)) if w not in _ELISIONS]


@dataclass(frozen=True)
class ParsedQuery:
    """What a user typed, reduced to words and phrases (each phrase a tuple of words)."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.phrases

    def all_words(self) -> tuple[str, ...]:
        seen: dict[str, None] = dict.fromkeys(self.terms)
        for phrase in self.phrases:
            seen.update(dict.fromkeys(phrase))
        return tuple(seen)


def parse_query(raw: str | None) -> ParsedQuery:
    """Read a query the way a person means it.

    `"ne s'allume plus"` is a phrase; `imprim*` asks for a prefix; operators and punctuation are
    ignored; at most `MAX_TERMS` words are kept so a pasted page cannot make a huge query.
    """
    text = (raw or "")[:MAX_QUERY_CHARS]
    phrases: list[tuple[str, ...]] = []
    for match in _PHRASE.findall(text):
        phrase = tuple(words(match))
        if len(phrase) > 1:
            phrases.append(phrase[:MAX_TERMS])
        elif phrase:
            text += " " + phrase[0]
    rest = _join_compounds(_PHRASE.sub(" ", text))
    prefixes = {fold(m) for m in re.findall(r"([^\W_]{2,})\*", rest)}
    terms: dict[str, None] = {}
    for word in words(rest):
        if word in _OPERATORS or len(terms) >= MAX_TERMS:
            continue
        terms[word] = None
    return ParsedQuery(tuple(terms), tuple(phrases[:4]), frozenset(prefixes & set(terms)))


def significant(terms: tuple[str, ...], locale: str) -> tuple[str, ...]:
    """The query words that are not stop words (what typo correction and snippets look at)."""
    stops = STOP_WORDS.get(locale, frozenset())
    return tuple(t for t in terms if t not in stops and len(t) > 1)


def light_stem(word: str) -> str:
    """A crude stem for highlighting only: plural and feminine endings cut, at least 4 letters."""
    for suffix in ("ements", "ement", "ations", "ation", "ing", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65_536)
def _folded_word(word: str) -> str:
    return fold(word)


def snippet(text: str, terms: tuple[str, ...], *, width: int = 200) -> str:
    """An HTML-escaped extract of `text` around the first match, matches wrapped in `<mark>`.

    A word matches when its folded form starts with the light stem of a term. The text is
    escaped piece by piece, so the only markup in the result is ours: an article body
    containing `<script>` comes back as `&lt;script&gt;`. Only the words up to the first match
    and those inside the extract are looked at: a page of results costs a few short extracts,
    not every word of ten articles.
    """
    plain = re.sub(r"\s+", " ", strip_markdown(text)).strip()
    stems = frozenset(light_stem(t) for t in terms if len(t) > 1)
    found = _folded_at_once(plain, stems, width) if stems else None
    start, end, spans = found if found is not None else _word_by_word(plain, stems, width)
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        out.append(html.escape(plain[pos:s], quote=False))
        out.append("<mark>" + html.escape(plain[s:e], quote=False) + "</mark>")
        pos = e
    out.append(html.escape(plain[pos:end], quote=False))
    if end < len(plain):
        out.append("…")
    return "".join(out)


def _window(plain: str, first: int | None, width: int) -> tuple[int, int]:
    """Where the extract starts and ends: a third of its width before the first match."""
    start = 0
    if first is not None and first > width // 3:
        start = plain.rfind(" ", 0, first - width // 3) + 1
    end = min(len(plain), start + width)
    if end < len(plain):
        cut = plain.rfind(" ", start, end)
        end = cut if cut > start else end
    return start, end


def _folded_at_once(
    plain: str, stems: frozenset[str], width: int
) -> tuple[int, int, list[tuple[int, int]]] | None:
    """The extract and its matches, the whole text folded at once, position for position, and
    searched by one regular expression; None when positions would shift. A result page builds
    ten snippets, and matching word by word in Python was most of a fast query's own time."""
    folded = _fold_aligned(plain)
    if folded is None:
        return None
    finder = _stem_finder(stems)
    first = finder.search(folded)
    start, end = _window(plain, first.start() if first else None, width)
    spans = []
    if first is not None:
        for m in finder.finditer(folded, start):
            if m.end() > end:
                break
            spans.append((m.start(), m.end()))
    return start, end, spans


def _word_by_word(
    plain: str, stems: frozenset[str], width: int
) -> tuple[int, int, list[tuple[int, int]]]:
    """The matches found by folding each word: for text whose characters do not all fold to
    one character each (`œ`, ligatures, combining accents), where positions would shift. A match
    starts where a word starts and runs to the end of its hyphenated compound, as
    `_stem_finder`'s does, so both readings mark `Wi-Fi` for `wifi`."""
    prefixes = tuple(stems)

    def hits(pos: int) -> Iterator[tuple[int, int]]:
        for word in _WORD.finditer(plain, pos):
            if word.start() < pos:
                continue
            run = _RUN.match(plain, word.start())
            assert run is not None  # a word is a run of one word
            if _folded_word(_UNHYPHEN.sub("", run.group(0))).startswith(prefixes):
                yield word.start(), run.end()
                pos = run.end()

    first = next(hits(0), None) if stems else None
    start, end = _window(plain, first[0] if first else None, width)
    spans: list[tuple[int, int]] = []
    if first is not None:
        for span in hits(start):
            if span[1] > end:
                break
            spans.append(span)
    return start, end, spans


# A word and the words hyphenated to it (`Wi-Fi`), and the hyphens to drop when folding one.
_RUN = re.compile(rf"[^\W_]+(?:[{_HYPHEN}][^\W_]+)*")
_UNHYPHEN = re.compile(f"[{_HYPHEN}]")


# Characters by how they fold on their own: to one character (the translation table), or to
# none or several (then the text is matched word by word). Final sigma lowers by context.
_FOLD_ONE: dict[int, str] = {}
_FOLD_SEEN: set[str] = set()
_FOLD_SHIFTS: set[str] = {"Σ"}


def _fold_aligned(text: str) -> str | None:
    """`fold(text)` when every character folds to exactly one, so that positions match."""
    chars = set(text)
    for c in chars - _FOLD_SEEN:
        f = fold(c)
        if len(f) == 1 and c not in _FOLD_SHIFTS:
            _FOLD_ONE[ord(c)] = f
        else:
            _FOLD_SHIFTS.add(c)
        _FOLD_SEEN.add(c)
    if chars & _FOLD_SHIFTS:
        return None
    return text.translate(_FOLD_ONE)


@lru_cache(maxsize=4096)
def _stem_finder(stems: frozenset[str]) -> re.Pattern[str]:
    """Whole words (`_WORD`'s runs) that start with one of the stems, hyphenated or not: the
    query `wifi` marks `Wi-Fi` as the index matched it (see `compounds`)."""
    alternatives = "|".join(
        f"[{_HYPHEN}]?".join(re.escape(c) for c in s) for s in sorted(stems, key=len, reverse=True)
    )
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?:[{_HYPHEN}]?[^\W_])*")


# Whole lines that are Markdown structure only: table delimiter rows, thematic breaks, code
# fences, link reference definitions.
_MD_LINES = re.compile(
    r"^[ \t]*(?:\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?"
    r"|(?:[-*_][ \t]*){3,}"
    r"|(?:`{3,}|~{3,})[^\n]*"
    r"|\[[^\]\n]+\]:[ \t]*\S+[^\n]*)[ \t]*$",
    re.M,
)
# Block markers at the start of a line: headings, quotes, list items (bullets and numbers).
_MD_BLOCK = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)", re.M)
# Inline: images and links (keeping their text), autolinks (keeping the address), backslash
# escapes (keeping the character), emphasis, code and table pipes. HTML is left as text, as the
# article page shows it (kb.markdown renders with raw HTML off).
_MD_INLINE = re.compile(
    r"!?\[([^\]]*)\]\([^)]*\)|<((?:https?|mailto|tel):[^>\s]*)>"
    r"|\\([!-/:-@\[-`{-~])|(\|)|[`*~]+|(?<![^\W_])_+|_+(?![^\W_])"
)


def _inline(m: re.Match[str]) -> str:
    """A link's or image's text, an autolink's address, an escaped character; a space for a
    table pipe or an empty link (they separate words); nothing for emphasis and code marks."""
    kept = m.group(1) or m.group(2) or m.group(3)
    if kept:
        return kept
    return " " if m.group(4) or m.group(0).startswith(("[", "!")) else ""


def strip_markdown(text: str) -> str:
    """Markdown reduced to its words, for the index and for every snippet: links and images
    keep their text, list numbers and bullets, headings' `#`, tables' pipes and delimiter rows,
    fences and emphasis marks go. Regular expressions rather than a Markdown parser: this runs
    for every result of every search, and a parse would cost more than the search."""
    text = _MD_LINES.sub(" ", text)
    for _ in range(2):  # a list inside a quote
        text = _MD_BLOCK.sub("", text)
    return _MD_INLINE.sub(_inline, text)


def typo_edits(word: str) -> int:
    """How many edits a typo of `word` may hold: one, two for long words (both backends)."""
    return 2 if len(word) >= 8 else 1


def edit_distance(a: str, b: str) -> int:
    """Edit distance counting two swapped neighbours as one edit (optimal string alignment):
    `factrue` is one slip of the fingers from `facture`, not two substitutions."""
    return int(OSA.distance(a, b))
