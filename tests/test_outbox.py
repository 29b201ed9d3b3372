"""The notification outbox (NOT-1): notices e-mailed to the owner and billing admins through a
real SMTP server on loopback (aiosmtpd); a failed delivery is kept and tried again later."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller

from billing.notifications import NotificationKind
from gateway.mailer import SmtpMailer
from models import Notification
from resolvers.notice_mail import NoticeMail
from resolvers.notices import notify
from resolvers.outbox import deliver_pending
from tests.conftest import SEEDED_AT, free_port
from tests.factories import organization_with


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def _deliver(mailer: SmtpMailer, now: datetime, organization_id: UUID) -> tuple[int, int]:
    # Only this test's notices: other tests leave theirs in the shared outbox.
    return await deliver_pending(mailer, now, organization_ids=[organization_id])


async def test_notices_reach_the_owner_and_billing_admins(
    database: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30)),
    )
    await notify(
        organization.id,
        NotificationKind.USAGE_THRESHOLD,
        "Email: 7,500 of 10,000 emails used this billing month (75 % reached).",
        SEEDED_AT,
    )
    mailer = SmtpMailer("127.0.0.1", port, "billing@demo-saas.test")
    assert await _deliver(mailer, datetime.now(UTC), organization.id) == (1, 0)
    ((recipients, message),) = inbox.messages
    assert sorted(recipients) == [
        f"billing@{organization.slug}.test",
        f"owner@{organization.slug}.test",
    ]
    assert message["Subject"] == f"[{organization.name}] Usage alert"
    text = message.get_body(("plain",))
    assert text is not None and "75 % reached" in text.get_content()
    assert await _deliver(mailer, datetime.now(UTC), organization.id) == (0, 0)  # delivered once


async def test_a_failed_delivery_is_kept_and_retried(
    database: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30)),
    )
    await notify(
        organization.id,
        NotificationKind.PAYMENT_FAILED,
        "The renewal could not be charged.",
        SEEDED_AT,
    )
    now = datetime.now(UTC)
    down = SmtpMailer("127.0.0.1", free_port(), "billing@demo-saas.test", timeout=2)
    assert await _deliver(down, now, organization.id) == (0, 1)
    notice = await Notification.get(organization_id=organization.id)
    assert (notice.attempts, notice.delivered_at) == (1, None) and notice.last_error
    up = SmtpMailer("127.0.0.1", port, "billing@demo-saas.test")
    assert await _deliver(up, now, organization.id) == (0, 0)  # not before its next attempt
    assert await _deliver(up, now + timedelta(minutes=3), organization.id) == (1, 0)
    assert (
        len(inbox.messages) == 1
        and inbox.messages[0][1]["Subject"] == f"[{organization.name}] A payment failed"
    )


async def test_delivery_for_given_organizations_leaves_the_others_pending(
    database: str, smtp: tuple[Inbox, int]
) -> None:
    # NOT-1: the outbox's organization_ids argument (as the billing clock's) keeps a run to them.
    inbox, port = smtp
    period = (SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30))
    mine, _ = await organization_with([{"product": "email", "plan": "email-1000"}], period=period)
    other, _ = await organization_with([{"product": "email", "plan": "email-1000"}], period=period)
    for organization in (mine, other):
        await notify(
            organization.id, NotificationKind.PAYMENT_FAILED, "The card failed.", SEEDED_AT
        )
    mailer = SmtpMailer("127.0.0.1", port, "billing@demo-saas.test")
    assert await _deliver(mailer, datetime.now(UTC), mine.id) == (1, 0)
    left = await Notification.get(organization_id=other.id)
    assert (left.delivered_at, left.attempts) == (None, 0)
    assert [m["Subject"] for _, m in inbox.messages] == [f"[{mine.name}] A payment failed"]


class _SlowMailer:
    """Records what it sends ("notice N"), taking a moment; fails the first `failures` sends."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[str] = []
        self.failures = failures

    async def send(self, recipients: list[str], notice: NoticeMail) -> None:
        body = notice.message
        # Earlier notices take longer, so two sent side by side would arrive the wrong way round.
        await asyncio.sleep(0.02 * (5 - int(body.rsplit(" ", 1)[-1])))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the SMTP server went away")
        self.sent.append(body)


async def _deliver_to(mailer: _SlowMailer, now: datetime, organization_id: UUID) -> tuple[int, int]:
    return await deliver_pending(mailer, now, organization_ids=[organization_id])


async def test_two_workers_send_an_organizations_notices_in_order(database: str) -> None:
    # NOT-1 with several workers delivering at once: each organization's e-mails in the order
    # they were written, each once.
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30)),
    )
    for minute in range(5):
        at = SEEDED_AT + timedelta(minutes=minute)
        await notify(organization.id, NotificationKind.STATUS_CHANGED, f"notice {minute}", at)
    mailer = _SlowMailer()
    now = datetime.now(UTC)
    for _ in range(6):
        await asyncio.gather(
            deliver_pending(mailer, now, organization_ids=[organization.id]),
            deliver_pending(mailer, now, organization_ids=[organization.id]),
        )
    assert mailer.sent == [f"notice {minute}" for minute in range(5)]


async def test_a_failed_notice_holds_back_its_organizations_later_ones(database: str) -> None:
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30)),
    )
    for minute in range(2):
        at = SEEDED_AT + timedelta(minutes=minute)
        await notify(organization.id, NotificationKind.STATUS_CHANGED, f"notice {minute}", at)
    mailer, now = _SlowMailer(failures=1), datetime.now(UTC)
    assert await _deliver_to(mailer, now, organization.id) == (0, 1)
    # The second waits while the first waits for its retry.
    assert await _deliver_to(mailer, now, organization.id) == (0, 0)
    later = now + timedelta(minutes=3)
    assert await _deliver_to(mailer, later, organization.id) == (1, 0)
    assert await _deliver_to(mailer, later, organization.id) == (1, 0)
    assert mailer.sent == ["notice 0", "notice 1"]
