"""The agent's softphone in the console.

With Twilio, each agent's browser registers a Twilio Voice SDK device under the identity
`agent-<id>`, the same identity the router rings into each accepted call's conference (a
participant `client:agent-<id>`, see `telephony.conference`), with an access token signed here by
an API key of the account. With the simulator, the console's phone
panel is the softphone: the simulator connects the call when the agent accepts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


def identity_for(user_id: int) -> str:
    """The client name calls are bridged to (telephony.offers.accept)."""
    return f"agent-{user_id}"


@dataclass(frozen=True)
class VoiceToken:
    token: str
    identity: str
    expires_at: int  # Unix time


def kind(config: Any) -> str:
    """`twilio` (browser softphone), `unconfigured` (Twilio without an API key: agents answer on
    the number in their presence endpoint) or `simulator`."""
    if config.get("HELPDESK_TELEPHONY_BACKEND") != "twilio":
        return "simulator"
    if config.get("TWILIO_API_KEY_SID") and config.get("TWILIO_API_KEY_SECRET"):
        return "twilio"
    return "unconfigured"


def voice_token(
    *,
    account_sid: str,
    api_key_sid: str,
    api_key_secret: str,
    user_id: int,
    twiml_app_sid: str = "",
    ttl_s: int = 3600,
) -> VoiceToken:
    """An access token for the Voice SDK: incoming calls for this agent's identity, and
    outgoing ones through the TwiML app when one is configured."""
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VoiceGrant

    identity = identity_for(user_id)
    issued = int(time.time())
    token = AccessToken(account_sid, api_key_sid, api_key_secret, identity=identity, ttl=ttl_s)
    token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=twiml_app_sid or None))
    jwt = token.to_jwt()
    return VoiceToken(
        token=jwt.decode() if isinstance(jwt, bytes) else str(jwt),
        identity=identity,
        expires_at=issued + ttl_s,
    )
