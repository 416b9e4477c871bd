"""Listening in on live calls (listen, whisper, barge): the modes and the `Monitor` interface.

Telephony implements it (`telephony.monitoring`: Twilio conferences, or a monitor that says it is
unavailable on the simulator) and the app registers telephony's factory when it is created
(`register_monitors`), so supervision asks for the app's monitor without importing telephony.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app

MODES = ("listen", "whisper", "barge")


class MonitoringUnavailable(Exception):
    """This telephony backend cannot put a supervisor on a call."""


class Monitor(Protocol):
    def join(
        self, *, call_sid: str, supervisor_endpoint: str, mode: str, agent_call_sid: str | None
    ) -> str:
        """Add the supervisor to the call; returns the supervisor leg's CallSid."""


# Builds the app's monitor: telephony closes it over its own gateway and number, so the core
# never handles telephony's adapters.
MonitorFactory = Callable[[], Monitor]
MONITORS = "call_monitors"


def register_monitors(app: Flask, factory: MonitorFactory) -> None:
    app.extensions[MONITORS] = factory


def current_monitor() -> Monitor:
    """The app's monitor, for its telephony gateway and its own number."""
    factory: MonitorFactory = current_app.extensions[MONITORS]
    return factory()
