"""Documents by e-mail (issue 18): with the catalog's `[issuer] email_documents = true`, each
issued invoice and credit note (CRN-1) is e-mailed with its PDF to the billing e-mail, through the outbox: its row is
written with the invoice, delivered once to the tests' SMTP server on loopback, retried after a
failed delivery; with the setting off, nothing is written or sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from billing.clock import FixedClock
from gateway.catalog_file import load_catalog
from gateway.document_mail import render_document
from gateway.mailer import SmtpMailer
from gateway.seed import seed
from gateway.settings import DEFAULT_CATALOG_FILE
from models import BillingInfo, CreditNote, DocumentEmail, Invoice, Organization
from payments.sandbox import SandboxProcessor
from resolvers.api_keys import create_api_key
from resolvers.billing_clock import run_claimed_work
from resolvers.document_mail import deliver_documents
from tests.conftest import SEEDED_AT, GraphQLClient, free_port, trusted_request
from tests.factories import organization_with
from tests.test_outbox import Inbox

SENDER = "Billing <billing@demo-saas.test>"
EMAIL_1000 = [{"product": "email", "plan": "email-1000"}]
PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
# Ended two hours and a half ago: far from the other tests' due times.
ENDED = (SEEDED_AT - timedelta(days=31, hours=2, minutes=30), SEEDED_AT - timedelta(minutes=150))
PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  amountDueNow { amount } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
  changePlan(input: $input, confirmAmountDue: $confirm) { __typename
  ... on PlanChangeApplied { invoice { id number } } ... on UserError { code message } } }"""


@pytest.fixture
def mail_server() -> Iterator[tuple[Inbox, int]]:
    """The SMTP server on loopback the outbox's tests use (aiosmtpd)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest_asyncio.fixture
async def emailing(clock: FixedClock) -> AsyncIterator[None]:
    """The demo catalog with the issuer's setting on, as an operator's file would say it."""
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    issuer = catalog.issuer.model_copy(update={"email_documents": True})
    await seed(catalog.model_copy(update={"issuer": issuer}), None, clock)
    try:
        yield
    finally:
        await seed(catalog, None, clock)


async def _customer(period: tuple[datetime, datetime] = PERIOD) -> tuple[Organization, str]:
    organization, owner = await organization_with(EMAIL_1000, period=period)
    await BillingInfo.create(
        organization=organization,
        company_name="Rossi Srl",
        billing_email=f"ap@{organization.slug}.test",
        country="IT",
    )
    return organization, owner


async def _upgrade(gql: GraphQLClient, owner: str) -> dict[str, Any]:
    change = {"product": "email", "plan": "email-1500"}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]
    due = preview["previewPlanChange"]["amountDueNow"]["amount"]
    applied = (await gql(CHANGE, {"input": change, "confirm": due}, as_user=owner))["data"]
    assert applied["changePlan"]["__typename"] == "PlanChangeApplied", applied
    invoice: dict[str, Any] = applied["changePlan"]["invoice"]
    return invoice


async def test_an_issued_invoice_is_emailed_once_with_its_pdf(
    gql: GraphQLClient, emailing: None, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    organization, owner = await _customer()
    invoice = await _upgrade(gql, owner)
    (row,) = await DocumentEmail.filter(organization_id=organization.id)
    assert (row.kind, str(row.document_id), row.number) == (
        "invoice",
        invoice["id"],
        invoice["number"],
    )
    assert (row.recipient, row.created_at, row.delivered_at) == (
        f"ap@{organization.slug}.test",
        SEEDED_AT,
        None,
    )

    # Nobody listens on the first try: kept, with a pause before the next.
    down = SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2)
    first = datetime.now(UTC)
    only = [organization.id]
    assert await deliver_documents(down, render_document, first, organization_ids=only) == (0, 1)
    await row.refresh_from_db()
    assert row.attempts == 1 and row.delivered_at is None and row.last_error
    assert row.next_attempt_at is not None and row.next_attempt_at > first
    assert await deliver_documents(down, render_document, first, organization_ids=only) == (0, 0)
    assert inbox.messages == []

    mailer = SmtpMailer("127.0.0.1", port, SENDER)
    later = first + timedelta(minutes=3)
    assert await deliver_documents(mailer, render_document, later, organization_ids=only) == (1, 0)
    ((recipients, message),) = inbox.messages
    assert recipients == [f"ap@{organization.slug}.test"]
    assert message["Subject"] == f"[{organization.name}] Invoice {invoice['number']}"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice['number']}.pdf"
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    text = message.get_body(("plain",))
    assert text is not None and invoice["number"] in text.get_content()

    # Never twice: delivered, the row is done.
    assert await deliver_documents(mailer, render_document, later, organization_ids=only) == (0, 0)
    assert len(inbox.messages) == 1
    done = await DocumentEmail.get(id=row.id)
    assert (done.attempts, done.delivered_at) == (2, later)


async def test_a_batched_renewal_is_emailed_too(
    emailing: None, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    organizations = [(await _customer(ENDED))[0] for _ in range(2)]
    ids = [organization.id for organization in organizations]
    events = await run_claimed_work(SEEDED_AT, SandboxProcessor(), batch=10, organization_ids=ids)
    assert len([event for event in events if "renewed to" in event]) == 2
    renewals = await Invoice.filter(organization_id__in=ids)
    rows = await DocumentEmail.filter(organization_id__in=ids)
    assert sorted(row.number for row in rows) == sorted(invoice.number for invoice in renewals)
    mailer = SmtpMailer("127.0.0.1", port, SENDER)
    now = datetime.now(UTC)
    assert await deliver_documents(mailer, render_document, now, organization_ids=ids) == (2, 0)
    for _, message in inbox.messages:
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content().startswith(b"%PDF")


async def test_no_email_when_the_setting_is_off(
    gql: GraphQLClient, database: str, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    organization, owner = await _customer()
    invoice = await _upgrade(gql, owner)
    assert await Invoice.exists(id=invoice["id"])
    assert not await DocumentEmail.exists(organization_id=organization.id)
    mailer = SmtpMailer("127.0.0.1", port, SENDER)
    now = datetime.now(UTC)
    assert await deliver_documents(
        mailer, render_document, now, organization_ids=[organization.id]
    ) == (0, 0)
    assert inbox.messages == []


async def _partial_refund(
    client: httpx.AsyncClient, organization: Organization, invoice_id: str, amount: int
) -> dict[str, Any]:
    key = await create_api_key(organization.slug, "support", ["billing:refund"], SEEDED_AT)
    variables = {"invoiceId": invoice_id, "amount": amount, "reason": "Goodwill"}
    response = await client.post(
        "/graphql",
        json=trusted_request("RefundInvoice", variables),
        headers={"Authorization": f"Bearer {key}"},
    )
    refunded: dict[str, Any] = response.json()["data"]["refundInvoice"]
    assert refunded["__typename"] == "InvoiceRefunded", refunded
    return refunded


async def test_a_credit_note_is_emailed_once_with_its_pdf_rule_crn_1(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    emailing: None,
    mail_server: tuple[Inbox, int],
) -> None:
    inbox, port = mail_server
    organization, owner = await _customer()
    invoice = await _upgrade(gql, owner)
    refunded = await _partial_refund(client, organization, invoice["id"], 500)
    number = refunded["creditNote"]["number"]
    note = await CreditNote.get(organization_id=organization.id)
    assert note.number == number
    # Written in the refund's transaction, beside the invoice's own row.
    rows = await DocumentEmail.filter(organization_id=organization.id).order_by("created_at")
    assert [(row.kind, row.number) for row in rows] == [
        ("invoice", invoice["number"]),
        ("credit_note", number),
    ]
    assert (rows[1].document_id, rows[1].recipient) == (note.id, f"ap@{organization.slug}.test")

    mailer = SmtpMailer("127.0.0.1", port, SENDER)
    now = datetime.now(UTC)
    only = [organization.id]
    assert await deliver_documents(mailer, render_document, now, organization_ids=only) == (2, 0)
    (message,) = [m for _, m in inbox.messages if number in str(m["Subject"])]
    assert message["Subject"] == f"[{organization.name}] Credit note {number}"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{number}.pdf"
    pdf = attachment.get_content()
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    text = message.get_body(("plain",))
    assert text is not None
    assert number in text.get_content() and invoice["number"] in text.get_content()

    # Never twice.
    later = now + timedelta(minutes=5)
    assert await deliver_documents(mailer, render_document, later, organization_ids=only) == (0, 0)
    assert len(inbox.messages) == 2


async def test_no_credit_note_email_when_the_setting_is_off(
    gql: GraphQLClient, client: httpx.AsyncClient, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    organization, owner = await _customer()
    invoice = await _upgrade(gql, owner)
    refunded = await _partial_refund(client, organization, invoice["id"], 500)
    assert await CreditNote.exists(number=refunded["creditNote"]["number"])
    assert not await DocumentEmail.exists(organization_id=organization.id)
    mailer = SmtpMailer("127.0.0.1", port, SENDER)
    assert await deliver_documents(
        mailer, render_document, datetime.now(UTC), organization_ids=[organization.id]
    ) == (0, 0)
    assert inbox.messages == []
