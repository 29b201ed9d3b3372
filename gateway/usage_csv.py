"""GET /usage.csv: the organization's usage per period, metric and workspace (USE-3)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from defusedcsv import csv
from starlette.requests import Request
from starlette.responses import Response

from billing.errors import BillingError, ErrorCode
from billing.periods import parse_month, shift_months
from gateway.http_errors import error_response, signed_in_user
from gateway.settings import Settings
from models import Product, UsageCounter
from resolvers.viewer import Viewer
from schema.input_limits import MAX_LENGTHS, check_text

COLUMNS = ["period_start", "product", "metric", "workspace", "used"]
# The same maximums as the GraphQL arguments `Organization.usage(month, workspace)`.
_PARAMETER_LIMITS = {
    "month": MAX_LENGTHS["Organization.usage(month)"],
    "workspace": MAX_LENGTHS["Organization.usage(workspace)"],
}


def usage_csv_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def export(request: Request) -> Response:
        viewer = await signed_in_user(
            request, settings, "Sign in as a member of an organization first."
        )
        if not isinstance(viewer, Viewer):
            return viewer
        if viewer.default_organization_id is None:
            return error_response(
                401, ErrorCode.UNAUTHENTICATED, "Sign in as a member of an organization first."
            )
        try:
            for name, limit in _PARAMETER_LIMITS.items():
                check_text(name, request.query_params.get(name) or "", limit)
        except BillingError as error:
            return error_response(400, ErrorCode.BAD_USER_INPUT, error.message)
        query = UsageCounter.filter(organization_id=viewer.default_organization_id)
        if month := request.query_params.get("month"):
            try:
                year, number = parse_month(month)
            except BillingError as error:
                return error_response(400, ErrorCode.BAD_USER_INPUT, error.message)
            start = datetime(year, number, 1, tzinfo=UTC)
            query = query.filter(period_start__gte=start, period_start__lt=shift_months(start, 1))
        if workspace := request.query_params.get("workspace"):
            query = query.filter(workspace=workspace)
        products = {p.id: p.code for p in await Product.all()}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in await query.order_by("period_start", "product_id", "metric", "workspace"):
            workspace_name = "all" if row.workspace == "*" else (row.workspace or "none")
            writer.writerow(
                [
                    row.period_start.isoformat(),
                    products[row.product_id],
                    row.metric,
                    workspace_name,
                    row.value,
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )

    return export
