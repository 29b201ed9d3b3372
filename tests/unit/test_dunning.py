"""The dunning clock's pure rules: DUN-6's retry schedule, DUN-5's resume check, card expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.cards import card_expired
from billing.dunning import (
    PauseFacts,
    ResumeRefusal,
    next_retry_at,
    resume_refusal,
    retry_due,
)

DUE = datetime(2026, 3, 13, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "retries_made", "expected"),
    [
        (DUE, 0, None),  # the renewal's own charge just failed
        (DUE + DAY - timedelta(seconds=1), 0, None),
        (DUE + DAY, 0, 1),  # day 1
        (DUE + DAY, 1, None),  # day 1 already made
        (DUE + 2 * DAY, 1, None),
        (DUE + 3 * DAY, 1, 2),  # day 3
        (DUE + 5 * DAY, 2, 3),  # day 5
        (DUE + 5 * DAY, 3, None),  # all three made
        (DUE + 9 * DAY, 3, None),
        (DUE + 4 * DAY, 0, 2),  # a clock that skipped day 1 makes one attempt, not two
        (DUE + 6 * DAY, 0, 3),
    ],
)
def test_rule_dun_6_which_retry_is_due(
    now: datetime, retries_made: int, expected: int | None
) -> None:
    # rule DUN-6: retried on days 1, 3 and 5 after the due date
    assert retry_due(DUE, retries_made, now) == expected


@pytest.mark.parametrize(
    ("retries_made", "expected"),
    [(0, DUE + DAY), (1, DUE + 3 * DAY), (2, DUE + 5 * DAY), (3, None)],
)
def test_rule_dun_6_next_retry_at(retries_made: int, expected: datetime | None) -> None:
    assert next_retry_at(DUE, retries_made) == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (PauseFacts(False, "pm_bad", "pm_bad", True), None),  # not paused: nothing to refuse
        (PauseFacts(True, "pm_bad", "pm_bad", True), ResumeRefusal.FAILING_CARD_STILL_DEFAULT),
        (PauseFacts(True, "pm_bad", None, False), ResumeRefusal.NO_PAYMENT_METHOD),
        (PauseFacts(True, "pm_bad", "pm_new", False), ResumeRefusal.NO_PAYMENT_METHOD),
        (PauseFacts(True, "pm_bad", "pm_new", True), None),  # a new valid card
        (PauseFacts(True, None, "pm_old", True), None),  # paused before failing cards were kept
    ],
)
def test_rule_dun_5_when_automatic_charges_may_resume(
    facts: PauseFacts, expected: ResumeRefusal | None
) -> None:
    assert resume_refusal(facts) is expected


@pytest.mark.parametrize(
    ("exp_year", "exp_month", "expired"),
    [(2026, 3, False), (2026, 2, True), (2025, 12, True), (2026, 4, False), (2034, 1, False)],
)
def test_rule_pay_3_card_expiry(exp_year: int, exp_month: int, expired: bool) -> None:
    assert card_expired(exp_year, exp_month, DUE) is expired
