"""A SaaS backend provisioning one of its customers on billing-gateway (PRV-1), with a platform key
(ACC-6): the organization with its owner, a billing admin, a workspace, and a trial; with
`--webhook-url`, first a webhook endpoint for the subscription and invoice events (EVT-1).

Every call is a trusted document (operations/*.graphql) sent by its sha256 only, and each is
idempotent by the SaaS's external ids: run the script twice and the second run changes nothing.
The webhook endpoint is looked up by its URL first and registered only when none is enabled.
It is registered before the trial so that the trial's `subscription.created` reaches it (an
event goes to the endpoints registered when it happens). Its signing secret is printed once, at
registration: store it, the gateway never shows it again (rotate it with RotateWebhookSecret).

The platform key needs `organizations:write` and `organizations:read`, and `webhooks:write`
with `--webhook-url`:

    # a fresh sandbox gateway: the catalog, no demo organizations
    printf 'organizations = []\\n' > no-demo.toml
    DEMO_FILE=no-demo.toml billing-gateway serve &
    export BILLING_GATEWAY_PLATFORM_KEY=$(billing-gateway api-key create --platform \\
        --scope organizations:write --scope organizations:read --scope webhooks:write)
    python examples/provision.py --url http://127.0.0.1:8000 \\
        --webhook-url https://backend.example.com/billing-events
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import httpx

OPERATIONS = Path(__file__).resolve().parent.parent / "operations"
CUSTOMER = "crm-account-4711"  # the SaaS's own id for its customer
WEBHOOK_EVENTS = [
    "subscription.created",
    "subscription.changed",
    "subscription.status_changed",
    "subscription.trial_ending",
    "subscription.trial_ended",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.refunded",
    "credit_note.issued",
    "usage.limit_reached",
]


class GatewayError(Exception):
    pass


def _persisted(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A trusted document's request: its sha256 and the variables, never its text."""
    document = (OPERATIONS / f"{operation}.graphql").read_text()
    sha256 = hashlib.sha256(document.encode()).hexdigest()
    return {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}},
    }


class Gateway:
    """Runs the gateway's trusted documents with a platform key."""

    def __init__(self, http: httpx.AsyncClient, platform_key: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {platform_key}"}

    async def run(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = _persisted(operation, variables)
        response = await self.http.post("/graphql", json=body, headers=self.headers)
        answer: dict[str, Any] = response.json()
        if answer.get("errors"):
            error = answer["errors"][0]
            code = error.get("extensions", {}).get("code")
            raise GatewayError(f"{operation}: {code}: {error['message']}")
        result: dict[str, Any] = next(iter(answer["data"].values()))
        if result.get("__typename") == "UserError":
            raise GatewayError(
                f"{operation}: {result['code']} ({result['field']}): {result['message']}"
            )
        return result

    async def step(self, title: str, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = await self.run(operation, variables)
        print(f"{title}: {'done' if result['changed'] else 'already done (a resend)'}")
        organization: dict[str, Any] = result["organization"]
        return organization


async def register_webhook_endpoint(gateway: Gateway, url: str) -> None:
    """One enabled endpoint for `url`: an existing one is kept (its secret was shown when it was
    registered), else a new one is registered and its secret printed, this once."""
    listed = await gateway.http.post(
        "/graphql", json=_persisted("WebhookEndpoints", {}), headers=gateway.headers
    )
    answer: dict[str, Any] = listed.json()
    if answer.get("errors"):
        error = answer["errors"][0]
        code = error.get("extensions", {}).get("code")
        raise GatewayError(f"WebhookEndpoints: {code}: {error['message']}")
    for endpoint in answer["data"]["webhookEndpoints"]:
        if endpoint["url"] == url and endpoint["disabledAt"] is None:
            print(
                f"webhook endpoint: already registered (a resend): {endpoint['id']} for {url}; "
                "its secret was shown when it was registered"
            )
            return
    registered = await gateway.run(
        "RegisterWebhookEndpoint",
        {"input": {"url": url, "events": WEBHOOK_EVENTS, "description": "SaaS backend"}},
    )
    endpoint = registered["endpoint"]
    print(f"webhook endpoint: done: {endpoint['id']} for {endpoint['url']}")
    print(f"  events: {', '.join(endpoint['events'])}")
    print(f"  signing secret (shown this once, store it now): {registered['secret']}")


async def provision(
    http: httpx.AsyncClient, platform_key: str, webhook_url: str | None = None
) -> dict[str, Any]:
    """The customer's organization as the gateway holds it after provisioning."""
    gateway = Gateway(http, platform_key)
    if webhook_url is not None:
        await register_webhook_endpoint(gateway, webhook_url)
    await gateway.step(
        "organization with its owner",
        "CreateOrganization",
        {
            "input": {
                "externalId": CUSTOMER,
                "name": "Initech",
                "slug": "initech",
                "owner": {
                    "email": "peter@initech.test",
                    "name": "Peter Gibbons",
                    "externalId": "u-1",
                },
                "billingInfo": {
                    "companyName": "Initech LLC",
                    "billingEmail": "ap@initech.test",
                    "country": "US",
                },
            }
        },
    )
    await gateway.step(
        "billing admin",
        "AddMember",
        {
            "organizationExternalId": CUSTOMER,
            "person": {"email": "joanna@initech.test", "name": "Joanna", "externalId": "u-2"},
            "role": "BILLING_ADMIN",
        },
    )
    await gateway.step(
        "workspace",
        "CreateWorkspace",
        {"organizationExternalId": CUSTOMER, "slug": "support", "name": "Support"},
    )
    organization = await gateway.step(
        "trial (no card needed, SUB-2)",
        "StartTrial",
        {
            "organizationExternalId": CUSTOMER,
            "input": {"product": "marketing", "plan": "plus", "trialDays": 14},
        },
    )
    return organization


def _describe(organization: dict[str, Any]) -> str:
    plans = ", ".join(f"{p['product']} {p['plan']}" for p in organization["plans"])
    members = ", ".join(f"{m['email']} ({m['role']})" for m in organization["members"])
    workspaces = ", ".join(w["slug"] for w in organization["workspaces"])
    return (
        f"{organization['name']} ({organization['slug']}, {organization['externalId']}): "
        f"{organization['status']} on {plans} until {organization['trialEndsAt']}\n"
        f"  members: {members}\n  workspaces: {workspaces}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway's base URL")
    parser.add_argument(
        "--webhook-url",
        help="your backend's URL for the gateway's webhooks (the key then needs webhooks:write)",
    )
    args = parser.parse_args()
    key = os.environ.get("BILLING_GATEWAY_PLATFORM_KEY")
    if not key:
        print("set BILLING_GATEWAY_PLATFORM_KEY to a platform key", file=sys.stderr)
        return 2
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
        try:
            organization = await provision(http, key, args.webhook_url)
        except GatewayError as error:
            print(f"refused: {error}", file=sys.stderr)
            return 1
    print(_describe(organization))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
