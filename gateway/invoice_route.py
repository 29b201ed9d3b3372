"""GET /invoices/{id}.pdf for the owner and billing admins of the invoice's organization (ACC-3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from billing.access import may_read_billing
from billing.errors import ErrorCode
from gateway.http_errors import error_response, signed_in_user
from gateway.invoice_pdf import render_invoice
from gateway.settings import Settings
from models import Invoice, InvoiceLine
from resolvers.viewer import Viewer


def invoice_pdf_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def pdf(request: Request) -> Response:
        viewer = await signed_in_user(
            request, settings, "Sign in first: send 'Authorization: Bearer <token>'."
        )
        if not isinstance(viewer, Viewer):
            return viewer
        raw = request.path_params["invoice_id"]
        try:
            invoice = await Invoice.get_or_none(id=UUID(raw))
        except ValueError:
            invoice = None
        role = viewer.role_in(invoice.organization_id) if invoice else None
        if (
            invoice is None or role is None
        ):  # another tenant's invoice looks like no invoice (ACC-5)
            return error_response(
                404, ErrorCode.NOT_FOUND, f"No invoice with id {_shown(raw)!r} is visible to you."
            )
        if not may_read_billing(role):
            return error_response(
                403,
                ErrorCode.FORBIDDEN,
                "Only the organization's owner or a billing admin can see invoices.",
            )
        lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
        return Response(
            render_invoice(invoice, lines),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
        )

    return pdf


def _shown(raw: str) -> str:
    """The id as echoed back: a caller's 100,000-character path is not repeated whole."""
    return raw if len(raw) <= 64 else f"{raw[:64]}…"
