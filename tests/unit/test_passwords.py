"""Staff password rules after NIST SP 800-63B (helpdesk.auth.passwords)."""

from __future__ import annotations

import pytest

from helpdesk.auth.passwords import context_words, problem

ALICE = context_words("alice.martin@example.com", "Alice Martin")


@pytest.mark.parametrize(
    "password",
    ["12345678", "password", "password1", "qwertyuiop", "azertyui", "aaaaaaaa", "abcdefgh"],
)
def test_what_attackers_try_first_is_refused(password: str) -> None:
    assert problem(password, own_details=ALICE) is not None


@pytest.mark.parametrize("password", ["Alice2024!", "martin1987", "alicemartin", "helpdesk2026"])
def test_a_password_made_of_the_users_own_details_is_refused(password: str) -> None:
    assert problem(password, own_details=ALICE) == (
        "too close to your e-mail, your name or the product's name"
    )


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "a long passphrase", "Tr0ub4dor&3", "longenough", "ma-cle-de-2026"],
)
def test_ordinary_good_passwords_pass_without_composition_rules(password: str) -> None:
    assert problem(password, own_details=ALICE) is None


def test_length_bounds() -> None:
    assert problem("Xq7#pz!", own_details=ALICE) == "at least 8 characters"
    assert problem("x" * 1001) == "at most 1000 characters"
    assert problem("correct horse battery " * 40) is None  # long is fine, and checked quickly


def test_context_words_take_the_email_and_the_name() -> None:
    assert {"alice", "martin", "example", "helpdesk"} <= set(ALICE)
    assert "com" in ALICE and "al" not in context_words("al@x.io", "Al")
