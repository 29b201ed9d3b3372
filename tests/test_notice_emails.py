"""Notice e-mails a person reads (NOT-1, README "Operations"): plain text and HTML, Date and
Message-ID, a subject for every kind, the invoice's number and amount, and a link to the billing
page where there is something to do; sent to the tests' SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller

from billing.invoices import InvoiceKind, InvoiceStatus
from billing.notifications import NotificationKind
from gateway.mailer import SmtpMailer
from models import Invoice, Organization
from resolvers.notices import notify
from resolvers.outbox import deliver_pending
from tests.conftest import SEEDED_AT, free_port
from tests.factories import organization_with
from tests.test_outbox import Inbox

PERIOD = (SEEDED_AT - timedelta(days=1), SEEDED_AT + timedelta(days=30))
PUBLIC_URL = "https://billing.example.com"


@pytest.fixture
def mail_server() -> Iterator[tuple[Inbox, int]]:
    """The SMTP server on loopback the outbox's tests use (aiosmtpd)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


ACTION_KINDS = {"PAYMENT_FAILED", "PAYMENT_ACTION_REQUIRED", "STATUS_CHANGED", "LIMIT_REACHED"}


async def _invoice(organization: Organization) -> Invoice:
    return await Invoice.create(
        organization=organization,
        number=f"{organization.slug.upper()}-0007",
        sequence=7,
        kind=InvoiceKind.SUBSCRIPTION,
        status=InvoiceStatus.OPEN,
        currency="USD",
        total=15_900,
        amount_due=12_345,
        issued_at=SEEDED_AT,
        due_at=SEEDED_AT + timedelta(days=14),
    )


@pytest.mark.parametrize("kind", list(NotificationKind))
async def test_every_kind_is_an_email_a_person_reads(
    database: str,
    mail_server: tuple[Inbox, int],
    kind: NotificationKind,
) -> None:
    inbox, port = mail_server
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    invoice = await _invoice(organization)
    message_text = f"Something about <{kind.value.lower()}> & more."
    await notify(organization.id, kind, message_text, SEEDED_AT, invoice_id=invoice.id)
    mailer = SmtpMailer(
        "127.0.0.1", port, "Billing <billing@demo-saas.test>", public_url=PUBLIC_URL
    )
    sent_at = datetime.now(UTC)
    assert await deliver_pending(mailer, sent_at, organization_ids=[organization.id]) == (1, 0)
    ((_, message),) = inbox.messages

    assert message["Subject"] == f"[{organization.name}] {kind.subject}"
    assert abs((parsedate_to_datetime(message["Date"]) - sent_at).total_seconds()) < 60
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@demo-saas.test>"
    )
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content().replace("\r\n", "\n")
    html = html_part.get_content()

    assert message_text in text and kind.subject in text
    assert "Something about &lt;" in html and "&amp; more." in html  # escaped in HTML
    for part in (text, html):
        assert invoice.number in part
        assert "$123.45" in part and "$159.00" in part  # amount due and total
        assert "26 March 2026" in part  # the due date
    link = f"{PUBLIC_URL}/billing"
    if kind.value in ACTION_KINDS:
        assert f"{link}\n" in text and f'<a href="{link}">' in html
    else:
        assert link not in text and link not in html


async def test_a_notice_about_no_invoice_says_no_amount(
    database: str,
    mail_server: tuple[Inbox, int],
) -> None:
    inbox, port = mail_server
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await notify(
        organization.id, NotificationKind.LIMIT_REACHED, "Email: 10,000 of 10,000 used.", SEEDED_AT
    )
    mailer = SmtpMailer(
        "127.0.0.1", port, "billing@demo-saas.test", public_url="http://127.0.0.1:8000"
    )
    assert await deliver_pending(mailer, datetime.now(UTC), organization_ids=[organization.id]) == (
        1,
        0,
    )
    ((_, message),) = inbox.messages
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Invoice" not in text and "Amount due" not in text
    assert (
        "Choose a larger plan or buy more on the billing page:\nhttp://127.0.0.1:8000/billing\n"
        in text
    )


def test_the_billing_link_defaults_to_the_served_address() -> None:
    from gateway.processor import build_mailer
    from gateway.settings import load_settings

    env = {"GATEWAY_JWT_SECRET": "s" * 40, "SMTP_HOST": "127.0.0.1", "GATEWAY_PORT": "8123"}
    served = build_mailer(load_settings(env))
    public = build_mailer(load_settings({**env, "GATEWAY_PUBLIC_URL": "https://pay.example.com/"}))
    assert served is not None and served.public_url == "http://127.0.0.1:8123"
    assert public is not None and public.public_url == "https://pay.example.com"
