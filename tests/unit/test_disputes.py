"""Disputes' rules (INV-5: a lost dispute is a refund; a won one changes nothing), table-driven."""

from __future__ import annotations

import pytest

from billing.disputes import DisputeMove, DisputeStatus, amount_taken, dispute_move

S = DisputeStatus


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        # new to the gateway
        (None, S.NEEDS_RESPONSE, DisputeMove(S.NEEDS_RESPONSE, True, True, False, False)),
        (None, S.UNDER_REVIEW, DisputeMove(S.UNDER_REVIEW, True, True, False, False)),
        (None, S.LOST, DisputeMove(S.LOST, True, True, True, True)),  # closed before created
        (None, S.WON, DisputeMove(S.WON, True, True, True, False)),
        # open, moving on
        (
            S.NEEDS_RESPONSE,
            S.NEEDS_RESPONSE,
            DisputeMove(S.NEEDS_RESPONSE, False, False, False, False),
        ),
        (S.NEEDS_RESPONSE, S.UNDER_REVIEW, DisputeMove(S.UNDER_REVIEW, True, False, False, False)),
        (S.UNDER_REVIEW, S.LOST, DisputeMove(S.LOST, True, False, True, True)),
        (S.UNDER_REVIEW, S.WON, DisputeMove(S.WON, True, False, True, False)),
        (S.NEEDS_RESPONSE, S.CLOSED, DisputeMove(S.CLOSED, True, False, True, False)),
        # closed stays closed: redelivered or late events change nothing
        (S.LOST, S.LOST, DisputeMove(S.LOST, False, False, False, False)),
        (S.LOST, S.UNDER_REVIEW, DisputeMove(S.LOST, False, False, False, False)),
        (S.WON, S.LOST, DisputeMove(S.WON, False, False, False, False)),
        (S.CLOSED, S.NEEDS_RESPONSE, DisputeMove(S.CLOSED, False, False, False, False)),
    ],
)
def test_rule_inv_5_dispute_moves(
    current: DisputeStatus | None, reported: DisputeStatus, expected: DisputeMove
) -> None:
    assert dispute_move(current, reported) == expected


@pytest.mark.parametrize(
    ("disputed", "left", "taken"),
    [
        (1016, 1016, 1016),  # all of it
        (1016, 516, 516),  # $5.00 refunded in Stripe first: only $5.16 is left
        (300, 1016, 300),  # a partial dispute
        (1016, 0, 0),  # refunded already: nothing is taken
    ],
)
def test_rule_inv_5_a_lost_dispute_takes_at_most_what_is_left(
    disputed: int, left: int, taken: int
) -> None:
    assert amount_taken(disputed, left) == taken


def test_closed_statuses() -> None:
    assert [s for s in S if s.closed] == [S.WON, S.LOST, S.CLOSED]
