"""Who may call each endpoint and each Socket.IO event: the table the role matrix test checks.

ADD A LINE HERE FOR EVERY NEW ENDPOINT (keyed by its Flask endpoint name, as `flask routes` or the
test's failure message prints it) and every new event of the `/agents` namespace. The test
(tests/functional/test_security_matrix.py) walks the app's url_map and fails for any endpoint not
listed, so an endpoint cannot ship without someone deciding who may use it.

Values:
- a frozenset of roles: signed-in staff (API bearer token or console session) with one of these
  roles get through; the other roles get 403; anonymous callers get 401 (API) or are sent to the
  sign-in page (console). Admins pass every role check, so they are in every set.
- PUBLIC: anyone, signed in or not (the sign-in page, health, static assets, the token endpoint).
- TWILIO: Twilio webhooks: refused with 403 without a valid `X-Twilio-Signature`, whoever asks.
- NETWORK: monitoring: served to loopback and private addresses (or a metrics bearer token),
  refused with 403 from a public address whoever asks.
"""

from __future__ import annotations

from helpdesk.auth import permissions
from helpdesk.auth.models import Role

PUBLIC = "public"
TWILIO = "twilio"
NETWORK = "network"


def _may(permission: permissions.Permission) -> frozenset[Role]:
    """The roles a permission of helpdesk.auth.permissions lets through: admins pass every one."""
    return frozenset(permission) | {Role.ADMIN}


# Read from the permissions the console, the API and the live connection share, so no door can
# drift from another; tests/unit/test_permissions.py pins who each permission names.
ADMIN = _may(permissions.ADMINISTER)
SUPERVISOR = _may(permissions.SUPERVISE)
STAFF = _may(permissions.STAFF)
DISPATCH = _may(permissions.DISPATCH)
KB_WRITERS = _may(permissions.KB_WRITE)
KB_DELETERS = _may(permissions.KB_DELETE)
PERSONAL_DATA = _may(permissions.PERSONAL_DATA)
MAIL_INGRESS = _may(permissions.MAIL_INGRESS)

Access = frozenset[Role] | str

ENDPOINTS: dict[str, Access] = {
    # -- platform
    "health.healthz": PUBLIC,
    "metrics.metrics": NETWORK,
    "openapi.openapi_json": PUBLIC,
    "console.static": PUBLIC,
    "console.vendor": PUBLIC,
    # -- auth and users
    "auth_api.create_token_post": PUBLIC,
    "auth_api.revoke_token_delete": STAFF,
    "auth_api.list_users_get": STAFF,
    "auth_api.me_get": STAFF,
    "auth_api.get_user_get": STAFF,
    "auth_api.create_user_post": ADMIN,
    "auth_api.update_user_patch": ADMIN,
    "auth_api.list_user_tokens_get": ADMIN,
    "auth_api.revoke_user_tokens_delete": ADMIN,
    "auth_api.revoke_user_token_delete": ADMIN,
    "auth_api.list_user_sessions_get": ADMIN,
    "auth_api.end_user_sessions_delete": ADMIN,
    "auth_api.end_user_session_delete": ADMIN,
    "audit_api.list_audit_get": ADMIN,
    # Macros: any staff member (personal ones); the service keeps shared ones to supervisors
    "macros_api.list_macros_get": STAFF,
    "macros_api.create_macro_post": STAFF,
    "macros_api.get_macro_get": STAFF,
    "macros_api.update_macro_patch": STAFF,
    "macros_api.delete_macro_delete": STAFF,
    "macros_api.apply_macro_post": STAFF,
    "webhooks_api.list_webhooks_get": ADMIN,
    "webhooks_api.create_webhook_post": ADMIN,
    "webhooks_api.get_webhook_get": ADMIN,
    "webhooks_api.update_webhook_patch": ADMIN,
    "webhooks_api.delete_webhook_delete": ADMIN,
    "webhooks_api.rotate_webhook_secret_post": ADMIN,
    "webhooks_api.list_webhook_deliveries_get": ADMIN,
    # -- saved views (sharing one is checked in the service: tests/api/test_views_api.py)
    "views_api.list_views_get": STAFF,
    "views_api.create_view_post": STAFF,
    "views_api.view_counts_get": STAFF,
    "views_api.put_default_view_put": STAFF,
    "views_api.get_view_get": STAFF,
    "views_api.update_view_patch": STAFF,
    "views_api.delete_view_delete": STAFF,
    "views_api.view_tickets_get": STAFF,
    # -- satisfaction surveys: the list for staff; the answer page for whoever holds the link
    "surveys_api.list_surveys_get": STAFF,
    "console.saved_views": STAFF,
    "console.saved_view_create": STAFF,
    "console.saved_view_rename": STAFF,
    "console.saved_view_move": STAFF,
    "console.saved_view_delete": STAFF,
    "console.saved_view_default": STAFF,
    "console.saved_view_counts": STAFF,
    # -- customers and timeline
    "customers_api.list_customers_get": STAFF,
    "customers_api.create_customer_post": STAFF,
    "customers_api.get_customer_get": STAFF,
    "customers_api.update_customer_patch": STAFF,
    "customers_api.lookup_get": STAFF,
    "customers_api.merge_customer_post": PERSONAL_DATA,
    "customers_api.export_customer_get": PERSONAL_DATA,
    "customers_api.erase_customer_delete": ADMIN,
    "timeline_api.customer_timeline_get": STAFF,
    # -- tickets
    "tickets_api.list_tickets_get": STAFF,
    "tickets_api.create_ticket_post": STAFF,
    "tickets_api.get_ticket_get": STAFF,
    "tickets_api.get_ticket_by_reference_get": STAFF,
    "tickets_api.update_ticket_patch": STAFF,
    "tickets_api.merge_ticket_post": STAFF,
    "tickets_api.bulk_tickets_post": STAFF,
    "tickets_api.undo_bulk_post": STAFF,  # then its author or a supervisor (403 otherwise)
    "tickets_api.list_comments_get": STAFF,
    "tickets_api.add_comment_post": STAFF,
    "mail_files_api.upload_attachment_post": STAFF,
    "tickets_api.ticket_history_get": STAFF,
    # -- service levels and reporting
    "sla_api.list_calendars_get": STAFF,
    "sla_api.get_calendar_get": STAFF,
    "sla_api.create_calendar_post": ADMIN,
    "sla_api.replace_calendar_put": ADMIN,
    "sla_api.delete_calendar_delete": ADMIN,
    "sla_api.list_policies_get": STAFF,
    "sla_api.get_policy_get": STAFF,
    "sla_api.create_policy_post": ADMIN,
    "sla_api.replace_policy_put": ADMIN,
    "sla_api.delete_policy_delete": ADMIN,
    "sla_api.ticket_sla_get": STAFF,
    "sla_api.at_risk_get": SUPERVISOR,
    "sla_api.compliance_get": SUPERVISOR,
    "reporting_api.staffing_get": SUPERVISOR,
    # -- calls, queues, presence, SMS
    "telephony_api.put_presence_put": STAFF,
    "telephony_api.get_presence_get": STAFF,
    "telephony_api.my_state_get": STAFF,
    "telephony_api.list_calls_get": STAFF,
    "telephony_api.dial_post": STAFF,
    "telephony_api.get_call_get": STAFF,
    "telephony_api.accept_call_post": STAFF,
    "telephony_controls_api.hold_call_post": STAFF,
    "telephony_controls_api.conference_call_post": STAFF,
    "telephony_controls_api.hang_up_call_post": STAFF,
    "telephony_controls_api.transfer_call_post": STAFF,
    "telephony_controls_api.complete_transfer_post": STAFF,
    "telephony_controls_api.cancel_transfer_post": STAFF,
    "telephony_api.reject_call_post": STAFF,
    "telephony_api.wrap_up_call_post": STAFF,
    "telephony_queues_api.list_queues_get": STAFF,
    "telephony_queues_api.create_queue_post": ADMIN,
    "telephony_queues_api.replace_queue_put": ADMIN,
    "console.admin_queues": ADMIN,
    "console.admin_queue_new": ADMIN,
    "console.admin_queue_create": ADMIN,
    "console.admin_queue": ADMIN,
    "console.admin_queue_update": ADMIN,
    "console.admin_queue_deactivate": ADMIN,
    # -- e-mail
    "mail_api.ingest_raw_post": MAIL_INGRESS,
    "mail_api.download_attachment_get": STAFF,
    "sms_api.list_sms_get": STAFF,
    "sms_api.send_reply_post": STAFF,
    "sms_api.count_segments_get": STAFF,
    # -- the call simulator (only without Twilio credentials)
    "simulator_api.place_post": STAFF,
    "simulator_api.list_calls_get": STAFF,
    "simulator_api.get_call_get": STAFF,
    "simulator_api.press_post": STAFF,
    "simulator_api.hang_up_post": STAFF,
    "simulator_api.text_in_post": STAFF,
    "simulator_api.inbox_get": STAFF,
    # -- the mail simulator (only without MAIL_SMTP_URL)
    "mail_simulator_api.list_sent_mail_get": STAFF,
    "mail_simulator_api.get_sent_mail_get": STAFF,
    # -- Twilio webhooks
    "twilio_voice.incoming": TWILIO,
    "twilio_voice.status": TWILIO,
    "twilio_voice.language": TWILIO,
    "twilio_voice.menu": TWILIO,
    "twilio_voice.ticket": TWILIO,
    "twilio_voice.voicemail": TWILIO,
    "twilio_voice.wait": TWILIO,
    "twilio_voice.wait_choice": TWILIO,
    "twilio_voice.queue_result": TWILIO,
    "twilio_voice.connect_agent": TWILIO,
    "twilio_voice.hold": TWILIO,
    "twilio_controls.on_hold": TWILIO,
    "twilio_controls.transfer_wait": TWILIO,
    "twilio_controls.transfer_number": TWILIO,
    "twilio_voice.agent_status": TWILIO,
    # Recordings: a queue's policy, pausing, the lists and the audio (rights checked per queue).
    "twilio_recordings.recording_status": TWILIO,
    "telephony_recordings_api.get_policy_get": STAFF,
    "telephony_recordings_api.put_policy_put": ADMIN,
    "telephony_recordings_api.pause_recording_post": STAFF,  # then the agent on the call
    "telephony_recordings_api.call_recordings_get": STAFF,
    "telephony_recordings_api.ticket_recordings_get": STAFF,
    "telephony_recordings_api.customer_recordings_get": STAFF,
    "telephony_recordings_api.recording_media_get": STAFF,  # then the queue's restriction
    "twilio_sms.incoming": TWILIO,
    "twilio_sms.status": TWILIO,
    # -- console pages
    "console.login": PUBLIC,
    "console.language": PUBLIC,
    "console.logout": PUBLIC,  # signing out nobody does nothing; the form carries a CSRF token
    "console.index": STAFF,
    "console.settings": STAFF,
    "console.sign_out_elsewhere": STAFF,
    "console.socket_token": STAFF,
    "console.tickets": STAFF,
    "console.ticket": STAFF,
    "console.ticket_merge_form": STAFF,
    "console.ticket_merge_post": STAFF,
    "console.tickets_bulk": STAFF,
    "console.tickets_bulk_undo": STAFF,  # then its author or a supervisor
    "console.reply": STAFF,
    "console.properties": STAFF,
    "console.customer_search": STAFF,
    "console.customer": STAFF,
    "console.recording_audio": STAFF,  # then the queue's restriction
    "console.new_customer": STAFF,
    "console.create_customer": STAFF,
    "console.edit_customer": STAFF,
    "console.update_customer": STAFF,
    "console.new_ticket": STAFF,
    "console.create_ticket": STAFF,
    "console.phone_accept": STAFF,
    "console.phone_reject": STAFF,
    "console.phone_recording": STAFF,
    "console.phone_hold": STAFF,
    "console.phone_transfer": STAFF,
    "console.phone_transfer_complete": STAFF,
    "console.phone_transfer_cancel": STAFF,
    "console.phone_hangup": STAFF,
    "console.phone_conference": STAFF,
    "console.phone_transfer_targets": STAFF,
    "console.phone_wrap_up": STAFF,
    "console.phone_dial": STAFF,
    "console.phone_presence": STAFF,
    "console.phone_snapshot": STAFF,
    "console.simulator": STAFF,
    "console.simulator_call": STAFF,
    "console.simulator_calls": STAFF,
    "console.simulator_call_state": STAFF,
    "console.simulator_press": STAFF,
    "console.simulator_hang_up": STAFF,
    "console.simulator_text": STAFF,
    "console.simulator_open_center": ADMIN,
    "console.mail_simulator": STAFF,
    "console.mail_simulator_send": STAFF,
    "console.mail_original": STAFF,
    "console.mail_html": STAFF,
    "console.mail_raw": STAFF,
    "console.attachment_download": STAFF,
    "console.sla_clocks": STAFF,
    "console.sla_at_risk": SUPERVISOR,
    "console.sla_report": SUPERVISOR,
    "console.sla_report_csv": SUPERVISOR,
    "console.sla_calendars": ADMIN,
    "console.sla_calendar": ADMIN,
    "console.sla_calendar_new": ADMIN,
    "console.sla_policies": ADMIN,
    "console.sla_policy": ADMIN,
    "console.sla_policy_new": ADMIN,
    "console.audit_log": ADMIN,
    "console.admin_users": ADMIN,
    "console.admin_user": ADMIN,
    "console.admin_user_sessions_end": ADMIN,
    "console.admin_user_session_end": ADMIN,
    "console.admin_user_tokens_revoke": ADMIN,
    "console.admin_user_token_revoke": ADMIN,
    "console.admin_user_new": ADMIN,
    "console.admin_user_create": ADMIN,
    "console.macros": STAFF,
    "console.macro_new": STAFF,
    "console.macro_create": STAFF,
    "console.macro_edit": STAFF,
    "console.macro_update": STAFF,
    "console.macro_delete": STAFF,
    "console.admin_webhooks": ADMIN,
    "console.admin_webhook_create": ADMIN,
    "console.admin_webhook": ADMIN,
    "console.admin_webhook_update": ADMIN,
    "console.admin_webhook_secret": ADMIN,
    "console.admin_webhook_delete": ADMIN,
    "console.admin_texts": ADMIN,
    "console.admin_text_update": ADMIN,
    "console.admin_text_reset": ADMIN,
    "console.admin_ivr": ADMIN,
    "console.admin_ivr_publish": ADMIN,
    "console.admin_ivr_versions": ADMIN,
    "console.admin_ivr_version": ADMIN,
    "console.admin_ivr_rollback": ADMIN,
    "console.admin_user_update": ADMIN,
    "console.admin_user_password": ADMIN,
    "console.admin_user_deactivate": ADMIN,
    "console.admin_user_reactivate": ADMIN,
    # -- the caller screen, SMS conversations, softphone
    "console.call_screen": STAFF,
    "console.call_new_ticket": STAFF,  # then the agent on the call or a supervisor (403 otherwise)
    "console.call_link_ticket": STAFF,
    "console.call_new_caller": STAFF,
    "console.call_link_caller": STAFF,
    "console.call_text_article": STAFF,
    "console.phone_voice_token": STAFF,
    "console.sms_threads": STAFF,
    "console.sms_thread": STAFF,
    "console.sms_reply": STAFF,
    "telephony_api.identify_caller_post": STAFF,  # then the agent on the call or a supervisor
    "telephony_api.call_ticket_post": STAFF,
    # -- supervision and customer value
    "console.wallboard": SUPERVISOR,
    "console.wallboard_snapshot": SUPERVISOR,
    "console.wallboard_agent_state": SUPERVISOR,
    "console.wallboard_move": SUPERVISOR,
    "console.wallboard_monitor": SUPERVISOR,
    "console.calls_report": SUPERVISOR,
    "console.calls_report_csv": SUPERVISOR,
    "console.staffing_page": SUPERVISOR,
    "console.value_report": SUPERVISOR,
    "console.value_recompute": SUPERVISOR,
    "console.customer_models": SUPERVISOR,
    "console.customer_models_train": SUPERVISOR,
    "supervision_api.get_wallboard_get": SUPERVISOR,
    "supervision_api.put_agent_presence_put": SUPERVISOR,
    "supervision_api.move_call_post": SUPERVISOR,
    "supervision_api.monitor_call_post": SUPERVISOR,
    "supervision_api.get_call_report_get": SUPERVISOR,
    "value_api.post_invoices_post": SUPERVISOR,
    "value_api.import_invoices_csv_post": SUPERVISOR,
    "value_api.get_customer_value_get": STAFF,
    "value_api.get_value_report_get": SUPERVISOR,
    "value_api.post_recompute_post": SUPERVISOR,
    # -- field dispatch
    "console.dispatch_board": DISPATCH,
    "console.dispatch_auto": DISPATCH,
    "console.dispatch_work_order": DISPATCH,
    "console.dispatch_assign": DISPATCH,
    "console.dispatch_status": DISPATCH,
    "console.dispatch_technicians": DISPATCH,
    "console.dispatch_technician": DISPATCH,
    "console.dispatch_technician_new": DISPATCH,
    "console.ticket_new_visit": STAFF,
    "console.technician_job": PUBLIC,  # the technician's signed link is the credential
    "dispatch_api.list_technicians_get": STAFF,
    "dispatch_api.create_technician_post": DISPATCH,
    "dispatch_api.get_technician_get": STAFF,
    "dispatch_api.update_technician_patch": DISPATCH,
    "dispatch_api.technician_route_get": STAFF,
    "dispatch_api.list_work_orders_get": STAFF,
    "dispatch_api.create_work_order_post": STAFF,
    "dispatch_api.get_work_order_get": STAFF,
    "dispatch_api.work_order_suggestions_get": STAFF,
    "dispatch_api.assign_work_order_post": DISPATCH,
    "dispatch_api.unassign_work_order_post": DISPATCH,
    "dispatch_api.work_order_status_post": DISPATCH,
    "dispatch_api.complete_work_order_post": DISPATCH,
    "dispatch_api.auto_dispatch_post": DISPATCH,
    # -- knowledge base and help center
    "console.kb_list": STAFF,
    "console.kb_article": STAFF,
    "console.kb_new": KB_WRITERS,
    "console.kb_edit": KB_WRITERS,
    "console.kb_revisions": STAFF,
    "console.kb_draft_from_ticket": KB_WRITERS,
    "console.help_home": PUBLIC,
    "console.help_index": PUBLIC,
    "console.help_category": PUBLIC,
    "console.help_search": PUBLIC,
    "console.help_article": PUBLIC,
    "console.help_vote": PUBLIC,
    "console.help_contact": PUBLIC,
    "console.help_contact_send": PUBLIC,  # CSRF, a honeypot and a limit per address
    "console.help_contact_done": PUBLIC,  # shows only the reference this browser's session holds
    # -- customer portal: public to staff checks; the portal's own session cookie (never a staff
    # session) is checked inside, and each request is looked up with the customer's id
    "console.portal": PUBLIC,
    "console.portal_sign_in": PUBLIC,
    "console.portal_link": PUBLIC,  # the one-time link is the credential
    "console.portal_redeem": PUBLIC,
    "console.portal_sign_out": PUBLIC,
    "console.portal_language": PUBLIC,
    "console.portal_requests": PUBLIC,
    "console.portal_new_request": PUBLIC,
    "console.portal_request": PUBLIC,
    "console.portal_reply": PUBLIC,
    "console.survey_answer": PUBLIC,
    "console.survey_submit": PUBLIC,
    "kb_api.list_articles_get": STAFF,
    "kb_api.create_article_post": KB_WRITERS,
    "kb_api.get_article_get": STAFF,
    "kb_api.update_article_patch": KB_WRITERS,
    "kb_api.delete_article_delete": KB_DELETERS,
    "kb_api.article_revisions_get": STAFF,
    "kb_api.article_from_ticket_post": KB_WRITERS,
    "kb_api.search_get": STAFF,
    "kb_api.suggest_get": STAFF,
}

# Socket.IO: `connect` needs a valid token (any staff role); each event below then needs the
# listed roles. Events are the `on_<name>` handlers of helpdesk.realtime.AgentsNamespace.
SOCKET_EVENTS: dict[str, Access] = {
    "connect": STAFF,
    "disconnect": STAFF,
    "watch": STAFF,
    "unwatch": STAFF,
}
