"""Signing in and out, and the agent's own settings (language, time zone, where they are signed
in)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from agents_ui.blueprint import bp
from agents_ui.forms import ActionForm, LanguageForm, LoginForm, SettingsForm
from agents_ui.safety import safe_next
from helpdesk.auth import access
from helpdesk.auth import login as console_login
from helpdesk.auth import service as auth_service
from helpdesk.auth.login import this_console_session
from helpdesk.auth.models import Role, User
from helpdesk.auth.throttle import login_throttle
from helpdesk.extensions import db


def me() -> User:
    """The signed-in user as the model object the services expect (not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _login_page(form: LoginForm, status: int = 200) -> ResponseReturnValue:
    language = LanguageForm(locale=str(get_locale() or "en"))
    return render_template("login.html", form=form, language_form=language), status


@bp.route("/login", methods=["GET", "POST"])
@login_throttle
def login() -> ResponseReturnValue:
    """The sign-in form. A wrong password answers 401, which the throttle counts as a failure."""
    # HEAD is a GET without the body (monitors and link checkers send it): never a sign-in.
    reading = request.method in ("GET", "HEAD")
    if current_user.is_authenticated and reading:
        return redirect(safe_next(request.args.get("next")) or url_for("console.tickets"))
    form = LoginForm()
    if reading:
        form.next.data = safe_next(request.args.get("next")) or ""
        return _login_page(form)
    if not form.validate_on_submit():
        return _login_page(form, 400)
    user = auth_service.authenticate(
        session=db.session, email=form.email.data or "", password=form.password.data or ""
    )
    if user is not None and user.role is Role.INTEGRATION:
        user = None  # a machine account signs in to the API only, never to the console
    if user is None:
        form.password.data = ""
        form.form_errors.append(_("Wrong e-mail or password."))
        return _login_page(form, 401)
    target = safe_next(form.next.data) or url_for("console.tickets")
    # A fresh session on sign-in: nothing set before (by whoever used the browser) carries over.
    session.clear()
    login_user(user)
    console_login.start(user)
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """Posted (with its CSRF token), so that another site cannot sign an agent out with a link."""
    if ActionForm().validate_on_submit():
        console_login.end()
        logout_user()
        session.clear()
    return redirect(url_for("console.login"))


@bp.post("/language")
def language() -> Response:
    """The language of the sign-in page, kept in the session until someone signs in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
    return redirect(url_for("console.login"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    form = SettingsForm(locale=me().locale, timezone=session.get("timezone") or _default_timezone())
    if form.validate_on_submit():
        auth_service.update_user(session=db.session, user=me(), locale=form.locale.data)
        session["timezone"] = form.timezone.data
        refresh()  # the confirmation below is already in the new language
        flash(_("Settings saved."), "success")
        return redirect(url_for("console.settings"))
    telephony = _telephony_setup() if current_user.role is Role.ADMIN else None
    here = this_console_session()
    return render_template(
        "settings.html",
        form=form,
        telephony=telephony,
        sessions=access.console_sessions(session=db.session, user=me()),
        this_session_id=here.id if here else None,
        action_form=ActionForm(),
    ), (400 if form.errors else 200)


@bp.post("/settings/sign-out-elsewhere")
@login_required
def sign_out_elsewhere() -> Response:
    """Sign this user out of every other browser (a forgotten shared computer, a lost phone),
    closing the live connections opened there; this browser stays signed in."""
    here = this_console_session()
    if ActionForm().validate_on_submit() and here is not None:
        n = access.end_console_sessions(session=db.session, user=me(), keep_id=here.id)
        flash(
            ngettext(
                "Signed out of %(num)d other browser.", "Signed out of %(num)d other browsers.", n
            )
            if n
            else _("You were signed in nowhere else."),
            "success",
        )
    return redirect(url_for("console.settings") + "#sign-ins")


def _telephony_setup() -> dict[str, object]:
    """What an administrator types into Twilio's console: the webhook addresses, built from the
    public address that signatures are checked against (never from this request's host)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return {
        "backend": current_app.config.get("HELPDESK_TELEPHONY_BACKEND"),
        "number": current_app.config.get("TWILIO_PHONE_NUMBER"),
        "base": base,
        "hooks": [
            (_("A call comes in"), base + url_for("twilio_voice.incoming")),
            (_("Call status changes"), base + url_for("twilio_voice.status")),
            (_("A message comes in"), base + url_for("twilio_sms.incoming")),
            (_("Message status changes"), base + url_for("twilio_sms.status")),
        ],
    }


def _default_timezone() -> str:
    return str(current_app.config.get("HELPDESK_TIMEZONE") or "Europe/Paris")


@bp.get("/")
@login_required
def index() -> Response:
    return redirect(url_for("console.tickets"))
