"""Dispositions: the checks on a campaign's list, and what each outcome does to the person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.campaigns import dispositions, messages
from helpdesk.campaigns.dispositions import DEFAULTS, Disposition, after, check

NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
RETRY = Disposition("no_answer", "No answer", "Pas de réponse", "retry")


def test_the_defaults_are_valid_and_cover_every_outcome():
    parsed, errors = check(DEFAULTS)
    assert errors == {}
    assert {d.outcome for d in parsed} == set(dispositions.OUTCOMES)


def test_problems_are_named_by_field():
    _, errors = check(
        [
            {"code": "Bad Code", "label_en": "x", "label_fr": "x", "outcome": "retry"},
            {"code": "ok", "label_en": "", "label_fr": "x", "outcome": "maybe"},
            {"code": "ok", "label_en": "y", "label_fr": "y", "outcome": "reached"},
        ]
    )
    assert set(errors) == {
        "dispositions.0.code",
        "dispositions.1.label_en",
        "dispositions.1.outcome",
        "dispositions.2.code",
    }


def test_a_list_without_a_retry_or_without_an_end_is_refused():
    only_retry = [{"code": "busy", "label_en": "Busy", "label_fr": "Occupé", "outcome": "retry"}]
    assert "dispositions" in check(only_retry)[1]
    assert "dispositions" in check([])[1]


def test_a_retry_comes_back_after_the_delay_within_the_limits():
    nxt = after(RETRY, attempts=1, max_attempts=3, retry_delay=timedelta(hours=4), now=NOW)
    assert (nxt.status, nxt.next_attempt_at) == ("pending", NOW + timedelta(hours=4))


def test_a_retry_beyond_the_attempts_or_the_campaign_end_ends_the_person():
    assert after(RETRY, attempts=3, max_attempts=3, retry_delay=timedelta(hours=4), now=NOW) == (
        dispositions.Next("done", None, exhausted=True)
    )
    late = after(
        RETRY,
        attempts=1,
        max_attempts=3,
        retry_delay=timedelta(hours=4),
        now=NOW,
        ends_at=NOW + timedelta(hours=1),
    )
    assert late.status == "done" and late.exhausted


def test_a_refusal_ends_the_person_and_says_so():
    refused = Disposition("refused", "Refused", "Refus", "refused")
    nxt = after(refused, attempts=1, max_attempts=3, retry_delay=timedelta(hours=1), now=NOW)
    assert nxt.status == "done" and nxt.refused


def test_message_placeholders_are_checked_and_filled():
    text = "Bonjour {{customer.first_name}}, {{ campaign.name }} {{customer.nmae}}"
    assert messages.unknown(text) == ["customer.nmae"]
    filled = messages.render(text, messages.values_for("Alice Martin", "Spring offer"))
    assert filled == "Bonjour Alice, Spring offer {{customer.nmae}}"


def test_script_placeholders_are_checked_like_messages_and_may_name_the_agent():
    from helpdesk.campaigns import service

    values = service.defaults() | {
        "name": "Renewal",
        "script_fr": "Bonjour {{customer.first_name}}, ici {{agent.name}} : {{offre}}",
        "script_en": "Hello {{customer.name}}",
    }
    errors = service.check_fields(values)
    assert errors == {"script_fr": "unknown placeholder: offre"}
    # The agent's name belongs to a script only: nobody is calling when a text is sent.
    assert messages.unknown("Hi {{agent.name}}") == ["agent.name"]
    filled = messages.render(
        values["script_fr"], messages.values_for("Alice Martin", "Renewal", "Jeanne Dupont")
    )
    assert filled == "Bonjour Alice, ici Jeanne Dupont : {{offre}}"
