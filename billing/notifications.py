"""The kinds of notice owners and billing admins get (NOT-1), each with its e-mail subject."""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    PAYMENT_FAILED = "PAYMENT_FAILED"  # DUN-2
    PAYMENT_ACTION_REQUIRED = "PAYMENT_ACTION_REQUIRED"  # DUN-6
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"  # INV-5
    DISPUTE_OPENED = "DISPUTE_OPENED"  # INV-5: a chargeback on a paid invoice
    DISPUTE_CLOSED = "DISPUTE_CLOSED"  # INV-5: won, lost (refunded) or closed
    STATUS_CHANGED = "STATUS_CHANGED"  # SUB-3
    UPCOMING_RENEWAL = "UPCOMING_RENEWAL"  # NOT-1
    USAGE_THRESHOLD = "USAGE_THRESHOLD"  # USE-4
    LIMIT_REACHED = "LIMIT_REACHED"  # PREF-1
    AUTO_UPGRADE = "AUTO_UPGRADE"  # PREF-1
    FLEXIBLE_OVERAGE = "FLEXIBLE_OVERAGE"  # PREF-1
    AUTO_DOWNGRADE = "AUTO_DOWNGRADE"  # PREF-3
    AUTOSCALE = "AUTOSCALE"  # PREF-4

    @property
    def subject(self) -> str:
        return _SUBJECTS[self]


K = NotificationKind
_SUBJECTS = {
    K.PAYMENT_FAILED: "A payment failed",
    K.PAYMENT_ACTION_REQUIRED: "A payment needs your authentication",
    K.PAYMENT_REFUNDED: "A charge was refunded",
    K.DISPUTE_OPENED: "A payment is disputed",
    K.DISPUTE_CLOSED: "A dispute was closed",
    K.STATUS_CHANGED: "Your subscription's status changed",
    K.UPCOMING_RENEWAL: "Your subscription renews soon",
    K.USAGE_THRESHOLD: "Usage alert",
    K.LIMIT_REACHED: "A limit was reached",
    K.AUTO_UPGRADE: "Your plan was upgraded",
    K.FLEXIBLE_OVERAGE: "Extra volume was bought",
    K.AUTO_DOWNGRADE: "Your plan will be downgraded",
    K.AUTOSCALE: "Your plan was scaled",
}
