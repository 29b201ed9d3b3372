"""GET /exports/{kind}.csv?month=YYYY-MM (issue 18): the month's invoices, credit notes, payments
and tax report as CSV, for the owner and billing admins of an organization (ACC-3), an
organization's API key of scope exports:read (its organization), and a platform key of scope
exports:read (every organization, or one with ?organization=<slug>). The kinds are
resolvers.finance_exports.EXPORTS."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

from defusedcsv import csv
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from billing.access import may_read_billing
from billing.errors import BillingError, ErrorCode
from billing.periods import parse_month, shift_months
from gateway.auth import authenticate
from gateway.http_errors import auth_error_response, error_response
from gateway.settings import Settings
from models import Organization
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.finance_exports import EXPORTS, ExportMonth
from resolvers.viewer import Viewer
from schema.input_limits import check_text

SCOPE = "exports:read"
_MAX_PARAMETER = 64
_SIGN_IN = (
    "Sign in as an owner or billing admin of the organization, or send an API key of scope "
    f"{SCOPE}: 'Authorization: Bearer <token or key>'."
)


def finance_export_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def export(request: Request) -> Response:
        kind = EXPORTS.get(request.path_params["kind"])
        if kind is None:
            known = ", ".join(f"/exports/{name}.csv" for name in sorted(EXPORTS))
            return error_response(404, ErrorCode.NOT_FOUND, f"No such export: try {known}.")
        try:
            caller = await authenticate(request.headers.get("authorization"), settings)
        except BillingError as error:
            return auth_error_response(error)
        if caller is None:
            return error_response(401, ErrorCode.UNAUTHENTICATED, _SIGN_IN)
        try:
            month, start = _month(request.query_params.get("month"))
            slug = request.query_params.get("organization") or ""
            check_text("organization", slug, _MAX_PARAMETER)
        except BillingError as error:
            return error_response(400, ErrorCode.BAD_USER_INPUT, error.message)
        organizations = await _organizations(caller, slug)
        if isinstance(organizations, JSONResponse):
            return organizations
        rows = await kind.rows(ExportMonth(month, start, shift_months(start, 1), organizations))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(kind.columns)
        writer.writerows(rows)
        filename = f"{kind.name}-{month}{'-' + slug if slug else ''}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return export


def _month(raw: str | None) -> tuple[str, datetime]:
    """The required month, as written and as its first instant (UTC)."""
    if not raw:
        raise BillingError(
            "The query parameter 'month' is required: the calendar month to export, written "
            "YYYY-MM (e.g. ?month=2026-03).",
            field="month",
        )
    check_text("month", raw, _MAX_PARAMETER)
    try:
        year, number = parse_month(raw)
    except BillingError as error:
        raise BillingError(f"The query parameter 'month': {error.message}", field="month") from None
    return f"{year:04d}-{number:02d}", datetime(year, number, 1, tzinfo=UTC)


async def _organizations(
    caller: Viewer | ApiKeyPrincipal, slug: str
) -> list[UUID] | JSONResponse | None:
    """The organizations the caller may export (None: all), or the error to answer with."""
    organization = await Organization.get_or_none(slug=slug) if slug else None
    if slug and organization is None:
        return _unknown(slug)
    if isinstance(caller, Viewer):
        organization_id = organization.id if organization else caller.default_organization_id
        role = caller.role_in(organization_id)
        if organization_id is None or role is None:
            # another tenant's organization looks like no organization (ACC-5)
            return _unknown(slug) if slug else _forbidden("You belong to no organization.")
        if not may_read_billing(role):
            return _forbidden(
                "Only the organization's owner or a billing admin can export its invoices, "
                "credit notes, payments and taxes."
            )
        return [organization_id]
    if SCOPE not in caller.scopes:
        return _forbidden(
            f"This API key lacks the scope {SCOPE} (it has {', '.join(sorted(caller.scopes))}): "
            f"make a key with --scope {SCOPE}."
        )
    if caller.organization_id is None:  # a platform key: every organization, or the one named
        return [organization.id] if organization else None
    if organization is not None and organization.id != caller.organization_id:
        return _unknown(slug)
    return [caller.organization_id]


def _unknown(slug: str) -> JSONResponse:
    return error_response(
        404, ErrorCode.NOT_FOUND, f"No organization with slug {slug!r} is visible to you."
    )


def _forbidden(message: str) -> JSONResponse:
    return error_response(403, ErrorCode.FORBIDDEN, message)
