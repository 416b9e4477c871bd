"""How many times a caller hears the main menu, and where they go when they never choose.

A caller who presses nothing, or only keys the menu does not know, must not loop for ever
(Twilio would keep the line open, and a robocall or a phone without tones would hold a port
until someone noticed). The menu is said at most `max_menus` times; after the last one the call
takes a default route from `ivr.json` (`menu_limits`): a queue, so a person without a keypad
still reaches someone, or voicemail. Silence and invalid keys each have their route.

Pure logic: the webhook counts the menus heard in its own URL (`/menu?heard=2`), so a retried
request of Twilio's gets the same answer and nothing is stored for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_MENUS = 3
# Where a caller goes when the configuration names no route: to an agent, rather than away.
DEFAULT_ROUTE: dict[str, str] = {"action": "queue", "queue": "support"}
ROUTE_ACTIONS = frozenset({"queue", "voicemail"})


@dataclass(frozen=True)
class MenuLimits:
    """`menu_limits` of `ivr.json`, checked: the menus said at most, and the two routes."""

    max_menus: int
    no_input: dict[str, str]
    invalid: dict[str, str]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MenuLimits:
        raw = config.get("menu_limits") or {}
        max_menus = raw.get("max_menus", DEFAULT_MAX_MENUS)
        if not isinstance(max_menus, int) or isinstance(max_menus, bool) or max_menus < 1:
            max_menus = DEFAULT_MAX_MENUS
        return cls(
            max_menus=max_menus,
            no_input=_route(raw.get("no_input")),
            invalid=_route(raw.get("invalid") or raw.get("no_input")),
        )


def _route(raw: Any) -> dict[str, str]:
    """A route as configured, or the default one when it is not a route (a typo in an
    override must not leave the caller looping)."""
    if isinstance(raw, dict) and raw.get("action") in ROUTE_ACTIONS:
        return {str(k): str(v) for k, v in raw.items()}
    return dict(DEFAULT_ROUTE)


@dataclass(frozen=True)
class MenuMiss:
    """What follows a menu that got no valid key: the menu again (`route` None, `heard` the
    number of menus said once it is), or the default route named by `reason`."""

    heard: int
    invalid: bool
    route: dict[str, str] | None = None
    reason: str = ""


def after_miss(heard: int, *, pressed: bool, limits: MenuLimits) -> MenuMiss:
    """The caller heard the menu `heard` times (0: not yet) and then pressed nothing
    (`pressed` False) or a key the menu does not know."""
    if heard <= 0:
        if not pressed:
            return MenuMiss(heard=1, invalid=False)  # the way in, before any menu was said
        heard = 1  # a key on a menu whose URL did not count it: that menu was heard
    if heard >= limits.max_menus:
        reason = "invalid" if pressed else "no_input"
        route = limits.invalid if pressed else limits.no_input
        return MenuMiss(heard=heard, invalid=pressed, route=route, reason=reason)
    return MenuMiss(heard=heard + 1, invalid=pressed)
