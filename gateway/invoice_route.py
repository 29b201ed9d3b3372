"""GET /invoices/{id}.pdf and /credit-notes/{id}.pdf (CRN-1) for the owner and billing admins of
the document's organization (ACC-3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from billing.access import may_read_billing
from billing.errors import ErrorCode
from gateway.credit_note_pdf import render_credit_note
from gateway.http_errors import error_response, signed_in_user
from gateway.invoice_pdf import render_invoice
from gateway.settings import Settings
from models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from resolvers.viewer import Viewer


def invoice_pdf_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def pdf(request: Request) -> Response:
        raw = request.path_params["invoice_id"]
        try:
            invoice = await Invoice.get_or_none(id=UUID(raw))
        except ValueError:
            invoice = None
        refused = await _refused(
            request, settings, invoice.organization_id if invoice else None, "invoice", raw
        )
        if refused is not None or invoice is None:
            return refused or _not_found("invoice", raw)
        lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
        return _pdf(render_invoice(invoice, lines), invoice.number)

    return pdf


def credit_note_pdf_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """GET /credit-notes/{id}.pdf (CRN-1): as the invoice PDF, for the same readers."""

    async def pdf(request: Request) -> Response:
        raw = request.path_params["credit_note_id"]
        try:
            note = await CreditNote.get_or_none(id=UUID(raw))
        except ValueError:
            note = None
        refused = await _refused(
            request, settings, note.organization_id if note else None, "credit note", raw
        )
        if refused is not None or note is None:
            return refused or _not_found("credit note", raw)
        lines = await CreditNoteLine.filter(credit_note_id=note.id).order_by("position")
        invoice = await Invoice.get(id=note.invoice_id)
        return _pdf(render_credit_note(note, lines, invoice), note.number)

    return pdf


async def _refused(
    request: Request, settings: Settings, organization_id: UUID | None, what: str, raw: str
) -> Response | None:
    """None when the signed-in caller may read the organization's billing documents (ACC-3);
    else the answer: 401 unsigned, 404 for another tenant's document or none (ACC-5), 403 for a
    member without a billing role."""
    viewer = await signed_in_user(
        request, settings, "Sign in first: send 'Authorization: Bearer <token>'."
    )
    if not isinstance(viewer, Viewer):
        return viewer
    role = viewer.role_in(organization_id) if organization_id else None
    if role is None:  # another tenant's document looks like no document (ACC-5)
        return _not_found(what, raw)
    if not may_read_billing(role):
        return error_response(
            403,
            ErrorCode.FORBIDDEN,
            f"Only the organization's owner or a billing admin can see {what}s.",
        )
    return None


def _not_found(what: str, raw: str) -> Response:
    return error_response(
        404, ErrorCode.NOT_FOUND, f"No {what} with id {_shown(raw)!r} is visible to you."
    )


def _pdf(content: bytes, number: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


def _shown(raw: str) -> str:
    """The id as echoed back: a caller's 100,000-character path is not repeated whole."""
    return raw if len(raw) <= 64 else f"{raw[:64]}…"
