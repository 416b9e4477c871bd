"""Telephony's part of the app, in the manner of a Flask extension: `init_app` chooses its
adapters from the settings, registers its blueprints and tasks, and fills in the interfaces the
core declares for what only telephony knows (the call floor, presences, listening in, the IVR
check, gauges, the SMS outbox and contacts). Code reads the adapters through the typed accessors
in `telephony.adapters` rather than through `app.extensions` keys, which stay what they were for
scripts and tests.
"""

from __future__ import annotations

import importlib
import logging
from typing import cast

from flask import Flask

from helpdesk.config import Settings
from helpdesk.extensions import csrf
from telephony import degraded, sms_spool
from telephony.adapters import GATEWAY, SIMULATOR, SMS_SETTINGS, gateway
from telephony.api import bp as calls_api  # at import: operations declared for the OpenAPI document
from telephony.campaign_api import bp as campaign_dialer_api
from telephony.control_webhooks import bp as control_webhooks
from telephony.controls_api import bp as controls_api
from telephony.gateway import Gateway
from telephony.queues_api import bp as queues_api
from telephony.recording_webhooks import bp as recording_webhooks
from telephony.recordings_api import bp as recordings_api
from telephony.simulator_api import bp as simulator_api
from telephony.sms import SmsSettings
from telephony.sms_api import bp as sms_api
from telephony.sms_webhooks import bp as sms_webhooks
from telephony.webhooks import bp as voice_webhooks

# A database failure under a voice webhook answers an apology, not a 500 (telephony.degraded).
degraded.install(voice_webhooks)
# And under an inbound text, the text is spooled to disk and recorded later (telephony.sms_spool).
sms_spool.install(sms_webhooks)

TWILIO_TEST_NUMBER = "+15005550006"  # Twilio's "from" number for test credentials only


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[GATEWAY] = _gateway(settings)
    if settings.telephony_backend == "simulator":
        _attach_simulator(app, settings)
    app.extensions[SMS_SETTINGS] = _sms_settings(settings)
    if settings.HELPDESK_ONCALL_NUMBER:
        from helpdesk.sla.escalations import register_oncall_notifier
        from telephony.sms import oncall_notifier

        register_oncall_notifier(app, oncall_notifier(app, settings.HELPDESK_ONCALL_NUMBER))
    importlib.import_module("telephony.tasks")  # importing it registers the tasks
    importlib.import_module("telephony.campaign_tasks")
    _fill_core_interfaces(app)
    _register_blueprints(app)
    _warn_about_the_test_number(settings)


def _fill_core_interfaces(app: Flask) -> None:
    """What the core declares and only telephony can do (docs/architecture.md, "Layers")."""
    from helpdesk import health, metrics
    from helpdesk.campaigns import sending as campaign_sending
    from helpdesk.consent import service as consent_service
    from helpdesk.dispatch import inbound as dispatch_inbound
    from helpdesk.dispatch import notify as dispatch_notify
    from helpdesk.portal import links as portal_links
    from helpdesk.supervision import live, monitoring
    from helpdesk.supervision import service as supervision
    from helpdesk.surveys import inbound as survey_inbound
    from helpdesk.surveys import sending as survey_sending
    from helpdesk.tickets import delivery, ticket_merge
    from helpdesk.value import service as value_service
    from telephony import (
        campaign_texts,
        ivr_queues,
        sms,
        sms_optout,
        survey_texts,
        ticket_follow,
        usage,
    )
    from telephony import metrics as telephony_metrics
    from telephony import monitoring as call_monitoring
    from telephony import supervision as call_floor
    from telephony import warehouse as warehouse_sources
    from telephony.agent_presence import presences

    live.PRESENCES.fill(presences)
    supervision.FLOOR.fill(call_floor)
    monitoring.register_monitors(
        app,
        lambda: call_monitoring.from_gateway(gateway(app), app.config["TWILIO_PHONE_NUMBER"]),
    )
    health.register_ivr_check(app, ivr_queues.menu_dead_keys)
    health.register_telephony(app, lambda: gateway(app))
    metrics.register_gauges("telephony", telephony_metrics.gauges)
    delivery.register("sms", sms.deliver_reply, reach=sms.reply_reach)
    ticket_merge.register_follower("calls", ticket_follow.move_calls)
    ticket_merge.register_follower("texts", ticket_follow.move_texts)
    sms.register_inbound(dispatch_inbound.handle)
    sms.register_inbound(survey_inbound.handle)
    survey_sending.SMS.fill(survey_texts)
    campaign_sending.TEXTS.fill(campaign_texts)
    dispatch_notify.OUTBOX.fill(sms.queue_sms)
    portal_links.TEXTS.fill(sms.queue_sms)
    value_service.CONTACTS.fill(usage.contacts_since)
    consent_service.SMS_OPT_OUTS.fill(sms_optout.opted_out_numbers)
    warehouse_sources.register_sources()


def _register_blueprints(app: Flask) -> None:
    for api_bp in (
        calls_api,
        controls_api,
        queues_api,
        simulator_api,
        sms_api,
        recordings_api,
        campaign_dialer_api,
    ):
        csrf.exempt(api_bp)  # bearer tokens, not cookies: nothing for a forged form to ride on
        app.register_blueprint(api_bp)
    app.register_blueprint(voice_webhooks)
    app.register_blueprint(control_webhooks)
    app.register_blueprint(recording_webhooks)
    app.register_blueprint(sms_webhooks)


def _gateway(settings: Settings) -> Gateway:
    """Twilio when both credentials are set, otherwise the built-in simulator."""
    if settings.telephony_backend == "twilio":
        from telephony.conference_sids import CallConferenceSids
        from telephony.gateway import TwilioGateway

        return TwilioGateway.from_credentials(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            api_base_url=settings.TWILIO_API_BASE_URL,
            conference_sids=CallConferenceSids(),
        )
    from telephony.gateway import SimulatorGateway

    return cast(Gateway, SimulatorGateway())


def _attach_simulator(app: Flask, settings: Settings) -> None:
    """In simulator mode the gateway talks to a simulator that posts webhooks back in-process."""
    from telephony.simulator import Simulator, test_client_post

    sim = Simulator(
        test_client_post(app),
        auth_token=settings.TWILIO_AUTH_TOKEN,
        public_base_url=settings.PUBLIC_BASE_URL,
        our_number=settings.TWILIO_PHONE_NUMBER,
    )
    app.extensions[GATEWAY].simulator = sim
    app.extensions[SIMULATOR] = sim


def _sms_settings(settings: Settings) -> SmsSettings:
    """Per-number flood limit for inbound texts: counted in Redis when scaled out."""
    from limits import parse, storage, strategies

    store = storage.storage_from_string(settings.REDIS_URL or "memory://")
    return SmsSettings(
        region=settings.HELPDESK_DEFAULT_REGION,
        ack_period_s=settings.HELPDESK_SMS_ACK_PERIOD_S,
        limiter=strategies.MovingWindowRateLimiter(store),
        limit=parse(settings.HELPDESK_SMS_FLOOD_LIMIT),
        public_base_url=settings.PUBLIC_BASE_URL,
    )


def _warn_about_the_test_number(settings: Settings) -> None:
    """Twilio mode against Twilio itself, sending from the number that only Twilio's test
    credentials accept: with live credentials every text and call from it fails (error 21606)."""
    if (
        settings.telephony_backend == "twilio"
        and not settings.TWILIO_API_BASE_URL
        and settings.TWILIO_PHONE_NUMBER == TWILIO_TEST_NUMBER
    ):
        logging.getLogger("helpdesk.app").warning(
            "TWILIO_PHONE_NUMBER is %s, Twilio's number for test credentials: with live "
            "credentials nothing can be sent from it. Set TWILIO_PHONE_NUMBER to a number of "
            "the account.",
            TWILIO_TEST_NUMBER,
        )
