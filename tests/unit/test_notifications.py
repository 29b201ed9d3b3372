"""rule NOT-1: every kind of notice has its e-mail subject, so none goes out as a bare default."""

from __future__ import annotations

import pytest

from billing.notifications import NotificationKind


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_subject_rule_not_1(kind: NotificationKind) -> None:
    assert kind.subject and kind.subject != "Billing notice"
