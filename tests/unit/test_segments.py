"""Customer segmentation on crafted customers: each lands in its segment for the stated reason."""

from __future__ import annotations

from helpdesk.value.segments import (
    Billing,
    CostRates,
    Rules,
    Usage,
    at_risk_cut,
    best_threshold,
    classify,
    cost_to_serve,
    population_rules,
    risk_candidate,
    risk_score,
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


# -- at risk: a share of the base, not everyone who ever waited ----------------------------------


def test_risk_score_weighs_complaints_missed_targets_and_lost_revenue():
    # 2 complaints (4 points), 3 missed targets (3), 40 % of the revenue lost (4).
    usage = Usage(complaints=2, sla_breaches=3)
    assert risk_score(usage, Billing(60_000, 100_000, 8, 0)) == 11
    assert risk_score(Usage(), Billing(120_000, 100_000, 8, 0)) == 0  # growth is no risk
    assert risk_score(Usage(sla_breaches=1), Billing(50_000, 0, 1, 0)) == 1


def test_absolute_guards_come_before_the_share():
    rules = Rules()
    calm = Billing(80_000, 80_000, 4, 0)
    # Two missed targets alone make 2 points: below the minimum score, never at risk.
    assert risk_candidate(Usage(sla_breaches=2), calm, rules, RATES) is None
    assert classify(Usage(sla_breaches=2), calm, rules, RATES).segment == "standard"
    # Three missed targets, two complaints or a fall of 30 % are enough on their own.
    assert risk_candidate(Usage(sla_breaches=3), calm, rules, RATES) == (3, 80_000)
    assert risk_candidate(Usage(complaints=2), calm, rules, RATES) == (4, 80_000)
    assert risk_candidate(Usage(), Billing(70_000, 100_000, 4, 0), rules, RATES) == (3, 70_000)
    # Not buying any more, or already costly to serve: not a candidate.
    assert risk_candidate(Usage(complaints=3), Billing(0, 100_000, 4, 0), rules, RATES) is None
    heavy = Usage(complaints=3, talk_s=3600 * 10)
    assert risk_candidate(heavy, calm, rules, RATES) is None


def test_the_cut_keeps_the_riskiest_share_and_prefers_the_larger_accounts_on_ties():
    candidates = [(float(score), 10_000 * n) for n, score in enumerate([3, 9, 5, 5, 5, 4, 12])]
    # 40 paying customers, 10 %: four seats. 12 and 9, then the larger two of the three 5s.
    cut = at_risk_cut(candidates, 40, 0.1)
    assert cut == (5.0, 30_000)
    assert sorted(c for c in candidates if c >= cut) == [
        (5.0, 30_000),
        (5.0, 40_000),
        (9.0, 10_000),
        (12.0, 60_000),
    ]
    # Fewer candidates than seats: all of them are in; a small base still has one seat.
    assert at_risk_cut(candidates, 200, 0.1) == (0.0, 0)
    assert at_risk_cut(candidates[:2], 3, 0.1) == (9.0, 10_000)


def _base() -> list[tuple[Usage, Billing]]:
    """200 customers as a help desk sees them: most paying, targets missed here and there for
    many, a few who complain and buy less, and people who never bought."""
    out = []
    for n in range(200):
        revenue = 20_000 + 1_500 * n
        if n < 40:
            out.append((Usage(calls=2), Billing()))
        elif n % 10 == 0:
            out.append((Usage(complaints=2 + n % 3, sla_breaches=2), Billing(revenue, revenue * 2)))
        else:
            out.append((Usage(sla_breaches=n % 7), Billing(revenue, revenue, 8, 0)))
    return out


def test_at_risk_holds_at_most_its_share_of_paying_customers():
    base = _base()
    rules = population_rules(base, RATES)
    segments = [classify(u, b, rules, RATES) for u, b in base]
    at_risk = [(u, b) for (u, b), v in zip(base, segments, strict=True) if v.segment == "at_risk"]
    paying = sum(1 for _, b in base if b.revenue_cents > 0)
    candidates = [u for u, b in base if risk_candidate(u, b, Rules(), RATES) is not None]
    assert len(candidates) > paying / 2  # the absolute rules alone flag more than half
    assert len(at_risk) == paying // 10 == 16
    # The ones who complain and buy half as much come first.
    assert all(u.complaints >= 2 for u, _ in at_risk)
    best = sum(1 for v in segments if v.segment == "best")
    assert 0.1 * len(base) <= best <= 0.2 * len(base)


def test_a_calm_base_has_nobody_at_risk():
    base = [(Usage(sla_breaches=n % 3), Billing(50_000, 50_000, 4, 0)) for n in range(100)]
    rules = population_rules(base, RATES)
    assert all(classify(u, b, rules, RATES).segment != "at_risk" for u, b in base)


def test_low_satisfaction_scores_are_a_sign_of_leaving():
    """A customer who rated us 1 or 2 out of 5 says so themselves: a signal, with a weight in
    the risk score, and with a missed target on top they are at risk."""
    billing = Billing(80_000, 80_000, 4, 0)
    calm = Usage(tickets=2)
    assert "low_satisfaction" not in [s.code for s in classify(calm, billing, RULES, RATES).signals]
    unhappy = Usage(tickets=2, low_satisfaction=2, sla_breaches=1)
    assert risk_score(unhappy, billing) == 3
    v = classify(unhappy, billing, RULES, RATES)
    assert v.segment == "at_risk" and decisive(v) == ["low_satisfaction"]
    assert next(s.value for s in v.signals if s.code == "low_satisfaction") == 2
