"""A SaaS backend provisioning one of its customers on billing-gateway (PRV-1), with a platform key
(ACC-6): the organization with its owner, a billing admin, a workspace, and a trial.

Every call is a trusted document (operations/*.graphql) sent by its sha256 only, and each is
idempotent by the SaaS's external ids: run the script twice and the second run changes nothing.

    # a fresh sandbox gateway: the catalog, no demo organizations
    printf 'organizations = []\\n' > no-demo.toml
    DEMO_FILE=no-demo.toml billing-gateway serve &
    export BILLING_GATEWAY_PLATFORM_KEY=$(billing-gateway api-key create --platform \\
        --scope organizations:write --scope organizations:read)
    python examples/provision.py --url http://127.0.0.1:8000
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


class GatewayError(Exception):
    pass


class Gateway:
    """Runs the gateway's trusted documents with a platform key."""

    def __init__(self, http: httpx.AsyncClient, platform_key: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {platform_key}"}

    async def run(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        document = (OPERATIONS / f"{operation}.graphql").read_text()
        sha256 = hashlib.sha256(document.encode()).hexdigest()
        body = {
            "variables": variables,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}},
        }
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


async def provision(http: httpx.AsyncClient, platform_key: str) -> dict[str, Any]:
    """The customer's organization as the gateway holds it after provisioning."""
    gateway = Gateway(http, platform_key)
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
    # Webhook endpoint (issue 13, item 3, EVT-1): registered here with the platform key once the
    # outbound webhooks' trusted documents exist, e.g. gateway.run("RegisterWebhookEndpoint", …).
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
    args = parser.parse_args()
    key = os.environ.get("BILLING_GATEWAY_PLATFORM_KEY")
    if not key:
        print("set BILLING_GATEWAY_PLATFORM_KEY to a platform key", file=sys.stderr)
        return 2
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as http:
        try:
            organization = await provision(http, key)
        except GatewayError as error:
            print(f"refused: {error}", file=sys.stderr)
            return 1
    print(_describe(organization))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
