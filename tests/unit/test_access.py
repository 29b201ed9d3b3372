"""rules ACC-1 to ACC-4 as a table."""

from __future__ import annotations

import pytest

from billing.access import Role, may_cancel, may_manage_billing, may_read_billing

R = Role


@pytest.mark.parametrize(
    ("role", "read", "manage", "cancel", "cancel_widened"),
    [
        (R.OWNER, True, True, True, True),
        (R.BILLING_ADMIN, True, True, False, True),
        (R.ADMIN, False, False, False, False),
        (R.MEMBER, False, False, False, False),
        (None, False, False, False, False),
    ],
)
def test_roles(
    role: Role | None, read: bool, manage: bool, cancel: bool, cancel_widened: bool
) -> None:
    assert may_read_billing(role) is read  # ACC-3
    assert may_manage_billing(role) is manage  # ACC-2
    assert may_cancel(role, billing_admin_may_cancel=False) is cancel  # ACC-4
    assert may_cancel(role, billing_admin_may_cancel=True) is cancel_widened  # ACC-4
