"""The public page a survey e-mail links to: five buttons (1 to 5) and an optional comment,
answered once, without signing in, in the language the survey was sent in.

The address carries the survey's random token; the page says plainly when the survey was
already answered or has expired rather than pretending to take a second answer."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from agents_ui.blueprint import bp
from agents_ui.forms import ActionForm
from helpdesk.extensions import db
from helpdesk.surveys import service, texts
from helpdesk.surveys.models import Survey


def _survey(token: str) -> Survey:
    survey = service.by_token(db.session, token)
    if survey is None:
        abort(404)
    return survey


def _page(
    survey: Survey, outcome: str, *, status: int = 200, **context: object
) -> ResponseReturnValue:
    with force_locale(survey.language):
        html = render_template(
            "surveys/answer.html",
            survey=survey,
            outcome=outcome,
            form=ActionForm(),
            locale=survey.language,
            comment_max=texts.COMMENT_MAX,
            **context,
        )
    return html, status


@bp.get("/survey/<token>")
def survey_answer(token: str) -> ResponseReturnValue:
    survey = _survey(token)
    return _page(survey, service.state(survey))


@bp.post("/survey/<token>")
def survey_submit(token: str) -> ResponseReturnValue:
    survey = _survey(token)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    current = service.state(survey)
    if current != "open":
        return _page(survey, current, status=409)
    score = texts.valid_score(request.form.get("score"))
    comment = request.form.get("comment", "")[: texts.COMMENT_MAX]
    if score is None:
        return _page(survey, "open", status=422, error=True, comment=comment)
    if not service.record_answer(db.session, survey, score=score, comment=comment, via="link"):
        db.session.expire(survey)
        return _page(survey, service.state(survey), status=409)
    return _page(survey, "thanks")
