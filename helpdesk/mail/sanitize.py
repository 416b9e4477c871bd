"""HTML from e-mail made safe to show agents, and the plain text of HTML-only mail.

nh3 (the Ammonia sanitiser, as the knowledge base uses for its articles) keeps an allow-list of
tags and attributes: no script, no style element or attribute (so no CSS `expression()` or
`url()` that loads something), no event handler, no form. Links keep only http, https and mailto
and open with `rel="noopener noreferrer nofollow"`, in a new tab. Remote images would tell the
sender when and where an agent read their mail (a tracking pixel), so by default an image keeps
only its `alt` text and its address moves to `data-remote-src`, for a console that offers to
load it on request; images carried in the message itself (`cid:`) are kept.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "data-remote-src"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "ol": {"start"},
    "blockquote": {"type"},
    "font": {"color"},
}
URL_SCHEMES = {"http", "https", "mailto", "cid"}
# Whole elements whose content is never text a reader should see.
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "head",
    "title",
    "template",
    "noscript",
    "iframe",
    "object",
}


def _attribute(tag: str, name: str, value: str, *, remote_images: bool) -> str | None:
    if tag == "img" and name == "src":
        lowered = value.strip().lower()
        if lowered.startswith("cid:"):
            return value
        return value if remote_images and lowered.startswith("https://") else None
    if tag == "a" and name == "href" and value.strip().lower().startswith("cid:"):
        return None
    return value


def _remote_images_aside(html: str) -> str:
    """An `<img src="http…">` with its address moved aside, before the sanitiser sees it."""
    return re.sub(
        r"(<img\b[^>]*?)\bsrc\s*=\s*(\"|')\s*(https?://[^\"']*)\2",
        lambda m: f'{m.group(1)}data-remote-src="{m.group(3)}"',
        html,
        flags=re.IGNORECASE,
    )


def clean_html(html: str, *, remote_images: bool = False) -> str:
    """Sanitised HTML, safe to insert into the console's page as it is."""
    if not html.strip():
        return ""
    source = html if remote_images else _remote_images_aside(html)
    return nh3.clean(
        source,
        tags=ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        attribute_filter=lambda tag, name, value: _attribute(
            tag, name, value, remote_images=remote_images
        ),
        strip_comments=True,
    )


_BLOCKS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
    "pre", "hr", "ul", "ol", "dl", "dt", "dd",
}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = " ".join(data.split())
        if not text:
            return
        prefix = "> " * self.quote
        if prefix and (not self.out or self.out[-1].endswith("\n")):
            text = prefix + text
        elif self.out and not self.out[-1].endswith(("\n", " ")):
            text = " " + text
        self.out.append(text)


def html_to_text(html: str) -> str:
    """Readable text for an HTML-only message: blocks become lines, quotes get "> " marks."""
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: keep what was read
        pass
    lines = [line.strip() if not line.lstrip().startswith(">") else line.rstrip()
             for line in unescape("".join(parser.out)).split("\n")]  # fmt: skip
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
