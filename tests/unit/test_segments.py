"""Customer segmentation on crafted customers: each lands in its segment for the stated reason."""

from __future__ import annotations

from helpdesk.value.segments import (
    Billing,
    CostRates,
    Rules,
    Usage,
    best_threshold,
    classify,
    cost_to_serve,
)

RATES = CostRates(talk_minute=100, ticket=400, sms=10, field_visit=6000, complaint=1500)
RULES = Rules(best_revenue_cents=500_000)


def decisive(v):
    return [s.code for s in v.signals if s.decisive]


def test_cost_to_serve_adds_every_kind_of_contact():
    usage = Usage(talk_s=600, tickets=2, sms=5, field_visits=1, complaints=1)
    assert cost_to_serve(usage, RATES) == {
        "talk": 1000,
        "tickets": 800,
        "sms": 50,
        "field_visits": 6000,
        "complaints": 1500,
    }


def test_best_customer_pays_a_lot_on_time_and_costs_little():
    v = classify(Usage(talk_s=300, tickets=1), Billing(900_000, 850_000, 12, 0), RULES, RATES)
    assert v.segment == "best" and decisive(v) == ["top_revenue"]
    assert v.cost_cents == 900


def test_a_big_customer_who_complains_and_buys_less_is_at_risk():
    usage = Usage(tickets=4, complaints=3, sla_breaches=2)
    v = classify(usage, Billing(600_000, 1_000_000, 20, 0), RULES, RATES)
    assert v.segment == "at_risk"
    assert decisive(v) == ["repeated_complaints", "sla_breaches", "falling_revenue"]
    falling = next(s for s in v.signals if s.code == "falling_revenue")
    assert falling.value == -0.4
    # The top revenue is still shown, but it did not decide.
    assert "top_revenue" in [s.code for s in v.signals if not s.decisive]


def test_costly_when_serving_takes_the_margin():
    usage = Usage(talk_s=3600 * 5, tickets=10, field_visits=2)  # 30,000 + 4,000 + 12,000
    v = classify(usage, Billing(60_000, 55_000, 6, 0), RULES, RATES)
    assert v.cost_cents == 46_000
    assert v.segment == "costly" and decisive(v) == ["cost_over_revenue"]


def test_costly_outweighs_risk_and_late_payers_are_costly():
    usage = Usage(talk_s=3600 * 2, complaints=3)
    v = classify(usage, Billing(20_000, 40_000, 4, 0), RULES, RATES)
    assert v.segment == "costly"
    late = classify(Usage(), Billing(300_000, 300_000, 12, 3), RULES, RATES)
    assert late.segment == "costly" and late.late_payer and decisive(late) == ["late_payer"]


def test_growing_and_new_customers():
    v = classify(Usage(), Billing(150_000, 100_000, 8, 0), RULES, RATES)
    assert v.segment == "growing" and v.signals[0].value == 0.5
    new = classify(Usage(calls=1), Billing(50_000, 0, 1, 0), RULES, RATES)
    assert new.segment == "growing" and decisive(new) == ["new_customer"]


def test_info_only_contacts_never_buy():
    v = classify(Usage(calls=3, sms=2, tickets=0, talk_s=600), Billing(), RULES, RATES)
    assert v.segment == "info_only" and v.info_only and v.contacts == 5
    heavy = classify(Usage(calls=20, talk_s=3600), Billing(), RULES, RATES)
    assert heavy.segment == "costly" and decisive(heavy) == ["cost_without_revenue"]
    assert heavy.info_only  # still flagged


def test_standard_and_the_population_threshold():
    assert classify(Usage(calls=1), Billing(100_000, 100_000, 4, 0), RULES, RATES).segment == (
        "standard"
    )
    revenues = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert best_threshold(revenues) == 900  # the top 20 % of the ten paying customers
    assert best_threshold([]) == 1
