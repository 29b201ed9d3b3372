"""Documents by e-mail (issue 18): each kind's PDF renderer, and the e-mail that carries it (a
short plain-text note with the PDF attached). The outbox is resolvers/document_mail.py; a new
kind of document registers its renderer here with register_renderer: invoices and credit notes
(CRN-1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from uuid import UUID

from billing.money import Money
from gateway.credit_note_pdf import render_credit_note
from gateway.invoice_pdf import render_invoice
from models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from resolvers.document_mail import CREDIT_NOTE, INVOICE, DocumentMail, RenderedDocument

RENDERERS: dict[str, Callable[[UUID], Awaitable[RenderedDocument | None]]] = {}


def register_renderer(
    kind: str,
) -> Callable[
    [Callable[[UUID], Awaitable[RenderedDocument | None]]],
    Callable[[UUID], Awaitable[RenderedDocument | None]],
]:
    def register(
        render: Callable[[UUID], Awaitable[RenderedDocument | None]],
    ) -> Callable[[UUID], Awaitable[RenderedDocument | None]]:
        RENDERERS[kind] = render
        return render

    return register


async def render_document(kind: str, document_id: UUID) -> RenderedDocument | None:
    """The document as attached, or None when it is gone (or its kind has no renderer)."""
    render = RENDERERS.get(kind)
    return await render(document_id) if render is not None else None


@register_renderer(INVOICE)
async def _invoice(invoice_id: UUID) -> RenderedDocument | None:
    invoice = await Invoice.get_or_none(id=invoice_id)
    if invoice is None:
        return None
    lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    return RenderedDocument(
        title=f"Invoice {invoice.number}",
        filename=f"{invoice.number}.pdf",
        pdf=render_invoice(invoice, lines),
        summary=f"Total: {Money(invoice.total, invoice.currency).formatted()}",
    )


@register_renderer(CREDIT_NOTE)
async def _credit_note(credit_note_id: UUID) -> RenderedDocument | None:
    note = await CreditNote.get_or_none(id=credit_note_id).select_related("invoice")
    if note is None:
        return None
    lines = await CreditNoteLine.filter(credit_note_id=note.id).order_by("position")
    return RenderedDocument(
        title=f"Credit note {note.number}",
        filename=f"{note.number}.pdf",
        pdf=render_credit_note(note, lines, note.invoice),
        summary=(
            f"Total credited: {Money(note.total, note.currency).formatted()} "
            f"(corrects invoice {note.invoice.number})"
        ),
    )


def document_email(
    mail: DocumentMail, sender: str, recipients: list[str], now: datetime | None = None
) -> EmailMessage:
    document = mail.document
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=mail.mail_id, domain=_domain(sender))
    message.set_content(
        f"Hello,\n\n{document.title} for {mail.organization} is attached ({document.filename}).\n"
        f"{document.summary}\n\nThis e-mail was sent automatically by the billing system.\n"
    )
    message.add_attachment(
        document.pdf, maintype="application", subtype="pdf", filename=document.filename
    )
    return message


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rpartition("@")[2] or "localhost"
