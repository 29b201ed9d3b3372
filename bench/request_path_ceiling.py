"""The ceiling of bench/request_path.py: a hand-written Starlette + asyncpg + orjson endpoint that
answers the benchmark's billing-page query (bench/request_path.py, PAGE_QUERY) with the same JSON
as the gateway, from the same database, in 4 statements (at most the gateway's, as issue 16 asks).

It verifies the same HS256 bearer token the gateway issues, keeps the catalog (products and plans)
it read at start-up as the gateway keeps its snapshot, and leaves the billing rules to billing/
(the usage month, the percent of a limit). It answers only that one query: it is a yardstick,
not a server.

    python bench/request_path_ceiling.py PORT   (DATABASE_URL, GATEWAY_JWT_SECRET from the env)
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import jwt
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from billing.periods import BillingInterval, usage_month
from billing.usage import percent_used

ALL_WORKSPACES = "*"

# The caller's first organization with its subscription and the subscription's items, in one
# statement (the gateway reads them in one too: hot_reads.organization_and_subscription).
ORGANIZATION = """
WITH m AS (
    SELECT organization_id, role FROM membership WHERE user_id = $1
    ORDER BY created_at, id LIMIT 1)
SELECT o.id, o.name, o.credit_balance, o.currency, m.role,
       s.id AS subscription_id, s.status, s.billing_interval, s.current_period_start,
       s.current_period_end, s.billing_anchor, s.usage_closed_until,
       i.product_id, i.plan_id, i.seats, i.contact_limit
FROM m JOIN organization o ON o.id = m.organization_id
LEFT JOIN subscription s ON s.organization_id = o.id
LEFT JOIN subscription_item i ON i.subscription_id = s.id"""
INVOICES = """
SELECT id, number, sequence, status, total, amount_due, currency, issued_at, due_at, paid_at,
       count(*) OVER () AS total_count
FROM invoice WHERE organization_id = $1 ORDER BY sequence DESC LIMIT $2"""
PAYMENT_METHODS = """
SELECT id, brand, last4, exp_month, exp_year, is_default
FROM payment_method WHERE organization_id = $1 ORDER BY created_at"""
USAGE = """
SELECT product_id, metric, value FROM usage_counter
WHERE organization_id = $1 AND period_start = $2 AND workspace = $3"""


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"invoice:{sequence}".encode()).decode()


class Ceiling:
    def __init__(self, database_url: str, secret: str) -> None:
        self.database_url = database_url
        self.secret = secret
        self.pool: asyncpg.Pool | None = None
        self.products: dict[int, dict[str, Any]] = {}
        self.plans: dict[int, dict[str, Any]] = {}

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(self.database_url, min_size=2, max_size=10)
        async with self.pool.acquire() as connection:
            for row in await connection.fetch(
                "SELECT id, code, name, position, metrics FROM product"
            ):
                self.products[row["id"]] = {**row, "metrics": orjson.loads(row["metrics"])}
            for row in await connection.fetch("SELECT id, code, name, limits FROM plan"):
                self.plans[row["id"]] = {**row, "limits": orjson.loads(row["limits"])}

    async def page(self, request: Request) -> Response:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        body = orjson.loads(await request.body())
        first = int(body.get("variables", {}).get("first", 20))
        assert self.pool is not None
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(ORGANIZATION, UUID(claims["sub"]))
            organization = rows[0]
            org_id = organization["id"]
            subscription = organization if organization["subscription_id"] else None
            items = [row for row in rows if row["product_id"] is not None]
            invoices = await connection.fetch(INVOICES, org_id, first + 1)
            cards = await connection.fetch(PAYMENT_METHODS, org_id)
            usage: list[dict[str, Any]] = []
            if subscription is not None:
                start, _ = usage_month(
                    subscription["billing_anchor"],
                    BillingInterval(subscription["billing_interval"]),
                    subscription["current_period_start"],
                    subscription["current_period_end"],
                    subscription["usage_closed_until"],
                )
                counted = {
                    (r["product_id"], r["metric"]): r["value"]
                    for r in await connection.fetch(USAGE, org_id, start, ALL_WORKSPACES)
                }
                for item in sorted(items, key=lambda i: i["product_id"]):
                    product = self.products[item["product_id"]]
                    limits = self.plans[item["plan_id"]]["limits"]
                    for metric in product["metrics"]:
                        used = counted.get((product["id"], metric), 0)
                        limit = limits.get(metric)
                        usage.append(
                            {
                                "product": product["code"],
                                "metric": metric,
                                "used": used,
                                "limit": limit,
                                "percent": percent_used(used, limit),
                                "periodStart": start.isoformat(),
                            }
                        )
        currency = organization["currency"]
        page = invoices[:first]
        answer = {
            "data": {
                "organization": {
                    "id": str(org_id),
                    "name": organization["name"],
                    "viewerRole": organization["role"],
                    "creditBalance": {
                        "amount": organization["credit_balance"],
                        "currency": currency,
                    },
                    "subscription": None
                    if subscription is None
                    else {
                        "id": str(subscription["subscription_id"]),
                        "status": subscription["status"],
                        "billingInterval": subscription["billing_interval"],
                        "currentPeriodStart": _time(subscription["current_period_start"]),
                        "currentPeriodEnd": _time(subscription["current_period_end"]),
                        "items": [
                            {
                                "product": {
                                    "code": self.products[i["product_id"]]["code"],
                                    "name": self.products[i["product_id"]]["name"],
                                },
                                "plan": {
                                    "code": self.plans[i["plan_id"]]["code"],
                                    "name": self.plans[i["plan_id"]]["name"],
                                },
                                "seats": i["seats"],
                                "contactLimit": i["contact_limit"],
                            }
                            for i in sorted(
                                items, key=lambda i: self.products[i["product_id"]]["position"]
                            )
                        ],
                    },
                    "invoices": {
                        "totalCount": invoices[0]["total_count"] if invoices else 0,
                        "pageInfo": {
                            "hasNextPage": len(invoices) > first,
                            "endCursor": _cursor(page[-1]["sequence"]) if page else None,
                        },
                        "edges": [
                            {
                                "node": {
                                    "id": str(r["id"]),
                                    "number": r["number"],
                                    "status": r["status"],
                                    "total": {"amount": r["total"], "currency": r["currency"]},
                                    "amountDue": {
                                        "amount": r["amount_due"],
                                        "currency": r["currency"],
                                    },
                                    "issuedAt": _time(r["issued_at"]),
                                    "dueAt": _time(r["due_at"]),
                                    "paidAt": _time(r["paid_at"]),
                                }
                            }
                            for r in page
                        ],
                    },
                    "paymentMethods": [
                        {
                            "id": str(c["id"]),
                            "brand": c["brand"],
                            "last4": c["last4"],
                            "expMonth": c["exp_month"],
                            "expYear": c["exp_year"],
                            "isDefault": c["is_default"],
                        }
                        for c in cards
                    ],
                    "usage": usage,
                }
            }
        }
        return Response(orjson.dumps(answer), media_type="application/json")


def app(database_url: str, secret: str) -> Starlette:
    ceiling = Ceiling(database_url, secret)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await ceiling.start()
        yield
        if ceiling.pool is not None:
            await ceiling.pool.close()

    return Starlette(routes=[Route("/graphql", ceiling.page, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    port = int(sys.argv[1])
    database_url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    uvicorn.run(
        app(database_url, os.environ["GATEWAY_JWT_SECRET"]),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
