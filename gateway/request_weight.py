"""The weight of one GraphQL request in rate-limit units (README "Rate limits")."""

from __future__ import annotations

# A unit is about what a billing page costs in the estimate of gateway/query_cost.py (~90):
# a plain read weighs 1, a preview 2, a request at the 3,000 cost limit 30.
COST_PER_UNIT = 100


def request_weight(cost: int) -> int:
    """The request's estimated cost in rate-limit units, at least 1."""
    return max(1, -(-cost // COST_PER_UNIT))
