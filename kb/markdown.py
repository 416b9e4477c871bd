"""Article bodies: Markdown (CommonMark plus tables and strikethrough) to sanitised HTML.

markdown-it-py renders with raw HTML disabled, and nh3 (the Ammonia sanitiser) then keeps only an
allow-list of tags and attributes, so no script, event handler or `javascript:` link survives even
if a renderer bug let one through. Links open with `rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td", "kbd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render(markdown: str) -> str:
    """Sanitised HTML for `markdown`; safe to insert into a page as is."""
    raw = _MD.render(markdown or "")
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
