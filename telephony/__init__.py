"""Telephony: Twilio voice and SMS webhooks, IVR, queues and routing, the gateway and simulator."""
