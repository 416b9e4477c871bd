"""Typed accessors for telephony's adapters, which `telephony.wiring.init_app` chooses from the
settings and keeps on the app as Flask extensions do (`app.extensions` keys, kept for scripts
and tests). Code asks these instead of passing `Any` around under string keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

from telephony.gateway import Gateway

if TYPE_CHECKING:
    from telephony.recorder import Recorder
    from telephony.simulator import Simulator
    from telephony.sms import SmsSettings

GATEWAY = "telephony_gateway"
SIMULATOR = "telephony_simulator"
SMS_SETTINGS = "sms_settings"
RECORDER = "telephony_recorder"


def gateway(app: Flask | None = None) -> Gateway:
    """The app's gateway: Twilio, or the simulator's."""
    return cast(Gateway, (app or current_app).extensions[GATEWAY])


def simulator(app: Flask | None = None) -> Simulator | None:
    """The built-in simulator, in simulator mode only."""
    return cast("Simulator | None", (app or current_app).extensions.get(SIMULATOR))


def sms_settings(app: Flask | None = None) -> SmsSettings:
    """The inbound texts' flood limit and region, counted where the deployment shares them."""
    return cast("SmsSettings", (app or current_app).extensions[SMS_SETTINGS])


def recorder(app: Flask | None = None) -> Recorder:
    """The app's call recorder, made from its gateway on first use and kept: the simulator's
    recordings live in it."""
    from telephony.recorder import from_gateway

    app = app or current_app
    if RECORDER not in app.extensions:
        settings = app.config.get("HELPDESK_SETTINGS")
        base = settings.TWILIO_API_BASE_URL if settings is not None else ""
        app.extensions[RECORDER] = from_gateway(gateway(app), base)
    return cast("Recorder", app.extensions[RECORDER])
