"""EVT-1's rules: the retry schedule spans more than three days, then gives up; the signature
header carries one v1 per valid secret; a rotated-out secret stops signing when it expires."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta

from billing.limits import blocks_at_limit
from billing.policies import UpgradePreference
from billing.webhooks import (
    MAX_ATTEMPTS,
    RETRY_PAUSES,
    EventType,
    next_attempt_at,
    signature_header,
    unknown_event_types,
    valid_secrets,
)

AT = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)


def test_retries_grow_and_last_more_than_three_days_then_give_up_rule_evt_1() -> None:
    moments = [AT]
    for attempts in range(1, MAX_ATTEMPTS + 1):
        following = next_attempt_at(attempts, moments[-1])
        if following is None:
            break
        moments.append(following)
    pauses = [b - a for a, b in itertools.pairwise(moments)]
    assert pauses == list(RETRY_PAUSES)
    assert pauses[:5] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
    ]
    assert all(a <= b for a, b in itertools.pairwise(pauses))
    assert moments[-1] - AT >= timedelta(days=3)
    assert len(moments) == MAX_ATTEMPTS  # the first try and one per pause
    assert next_attempt_at(MAX_ATTEMPTS, moments[-1]) is None


def test_the_header_signs_timestamp_dot_body_once_per_secret_rule_evt_1() -> None:
    body = b'{"id":"evt_1"}'
    header = signature_header(["whsec_new", "whsec_old"], 1773307800, body)
    t, first, second = header.split(",")
    assert t == "t=1773307800"
    for part, secret in ((first, "whsec_new"), (second, "whsec_old")):
        expected = hmac.new(secret.encode(), b"1773307800." + body, hashlib.sha256).hexdigest()
        assert part == f"v1={expected}"


def test_the_previous_secret_signs_until_it_expires_rule_evt_1() -> None:
    expires = AT + timedelta(hours=24)
    assert valid_secrets("new", "old", expires, AT) == ["new", "old"]
    assert valid_secrets("new", "old", expires, expires) == ["new"]
    assert valid_secrets("new", None, None, AT) == ["new"]


def test_unknown_event_types_are_named() -> None:
    assert unknown_event_types(["invoice.paid", "invoice.lost", "x"]) == ["invoice.lost", "x"]
    assert unknown_event_types([t.value for t in EventType]) == []


def test_which_lines_block_at_their_limit_rule_evt_1_use_5() -> None:
    none, on_demand = UpgradePreference.NONE, UpgradePreference.ON_DEMAND
    assert blocks_at_limit(none, 10_000, 10_000) is True  # the next one is refused
    assert blocks_at_limit(none, 9_999, 10_000) is False
    assert blocks_at_limit(None, 10_000, 10_000) is True
    assert blocks_at_limit(on_demand, 20_000, 10_000) is False  # billed in blocks, never blocked
    assert blocks_at_limit(UpgradePreference.AUTO_UPGRADE, 20_000, 10_000) is False
    assert blocks_at_limit(none, 10_000, None) is False  # no limit
