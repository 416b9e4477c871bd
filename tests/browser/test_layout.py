"""The console's layout at the widths people use: laptops (1280-1400 px) with the longest menus
(supervisors, admins) and a phone (375 px). Nothing scrolls sideways and the search box keeps a
usable width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

WIDTHS = (1280, 1366, 1400, 375)
PAGES = (
    "/tickets",
    "/tickets/new?customer_q=a",
    "/customers",
    "/customers/new",
    "/sms",
    "/wallboard",
    "/settings",
)
MIN_SEARCH_PX = 120


def _measure(console: Console) -> dict[str, Any]:
    return dict(
        console.page.evaluate(
            """() => ({
                scroll: document.documentElement.scrollWidth,
                inner: window.innerWidth,
                search: document.getElementById("global-search").getBoundingClientRect().width,
                header: document.querySelector(".topbar").scrollWidth,
                // The outermost elements that stick out on the right, to say what to fix.
                wide: Array.from(document.querySelectorAll("body *"))
                    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
                        && !(el.parentElement
                            && el.parentElement.getBoundingClientRect().right
                                > window.innerWidth + 1))
                    .slice(0, 5)
                    .map((el) => el.tagName + "." + el.className),
            })"""
        )
    )


@pytest.mark.parametrize("who", ["admin", "supervisor"])
def test_no_sideways_scrolling_and_a_usable_search_box(
    sign_in: Callable[[str], Console], live_server: LiveServer, who: str
) -> None:
    console = sign_in(who)
    wrong = []
    for width in WIDTHS:
        console.page.set_viewport_size({"width": width, "height": 800})
        for path in PAGES:
            console.page.goto(live_server.base_url + path)
            found = _measure(console)
            if found["scroll"] > found["inner"] or found["header"] > found["inner"]:
                wrong.append(f"{path} at {width} px scrolls sideways: {found}")
            if found["search"] < MIN_SEARCH_PX:
                wrong.append(f"{path} at {width} px: search box {found['search']} px wide")
    assert not wrong, "\n".join(wrong)
    assert not console.errors
