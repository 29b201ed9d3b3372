"""Platform keys (ACC-6): bound to no organization, provisioning scopes only; they never make a
billing action (ACC-2, PRV-1)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from billing.errors import ForbiddenError, UnauthenticatedError
from models import ApiKey, Invoice
from resolvers.api_keys import ApiKeyPrincipal, create_api_key, find_api_key
from resolvers.platform import require_platform_scope
from tests.conftest import SEEDED_AT, error_codes, trusted_request
from tests.test_cli import run as cli

BILLING_MUTATIONS = [
    'mutation { changePlan(input: {product: "messaging", plan: "advanced"}, confirmedAmount: 0) '
    "{ __typename } }",
    'mutation { subscribe(input: {product: "marketing", plan: "plus"}, confirmedAmount: 0) '
    "{ __typename } }",
    'mutation { cancelSubscription(reason: "x") { __typename } }',
    'mutation { payInvoice(invoiceId: "x") { __typename } }',
    'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
    'mutation { updateBillingInfo(input: {companyName: "X", billingEmail: "a@b.co"}) '
    "{ __typename } }",
]


@pytest.mark.parametrize("document", BILLING_MUTATIONS)
async def test_a_platform_key_makes_no_billing_action_rule_acc_2(
    client: httpx.AsyncClient, document: str
) -> None:
    key = await create_api_key(
        None, "saas", ["organizations:write", "organizations:read"], SEEDED_AT
    )
    response = await client.post(
        "/graphql", json={"query": document}, headers={"Authorization": f"Bearer {key}"}
    )
    body = response.json()
    assert error_codes(body) == ["FORBIDDEN"] and body.get("data") is None


async def test_a_platform_key_may_not_refund_or_record_usage_rule_acc_2(
    client: httpx.AsyncClient,
) -> None:
    key = await create_api_key(None, "saas", ["organizations:write"], SEEDED_AT)
    invoice = await Invoice.filter(organization__slug="acme").first()
    assert invoice is not None
    headers = {"Authorization": f"Bearer {key}"}
    refund = trusted_request("RefundInvoice", {"invoiceId": str(invoice.id), "reason": "x"})
    body = (await client.post("/graphql", json=refund, headers=headers)).json()
    assert error_codes(body) == ["FORBIDDEN"]
    usage = trusted_request(
        "RecordUsage",
        {"events": [{"id": "p-1", "product": "email", "metric": "emails_sent", "quantity": 1}]},
    )
    body = (await client.post("/graphql", json=usage, headers=headers)).json()
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await Invoice.get(id=invoice.id)).status == invoice.status


@pytest.mark.usefixtures("database")
async def test_a_platform_key_is_bound_to_no_organization_rule_acc_6() -> None:
    key = await create_api_key(None, "saas", ["organizations:read"], SEEDED_AT)
    principal = await find_api_key(key)
    assert principal is not None and principal.organization_id is None and principal.is_platform
    assert (await ApiKey.get(id=principal.key_id)).organization_id is None
    assert require_platform_scope(principal, "organizations:read") is principal
    with pytest.raises(ForbiddenError, match="lacks the scope organizations:write"):
        require_platform_scope(principal, "organizations:write")
    bound = ApiKeyPrincipal(principal.key_id, principal.key_id, frozenset({"organizations:read"}))
    with pytest.raises(ForbiddenError, match="platform keys only"):
        require_platform_scope(bound, "organizations:read")
    with pytest.raises(UnauthenticatedError, match="--platform --scope organizations:read"):
        require_platform_scope(None, "organizations:read")


@pytest.mark.usefixtures("database")
async def test_scopes_must_fit_the_kind_of_key_rule_acc_6() -> None:
    from billing.errors import BillingError

    with pytest.raises(BillingError, match="organizations:read") as unknown:
        await create_api_key(None, "saas", ["organizations:admin"], SEEDED_AT)
    assert unknown.value.field == "scopes"
    with pytest.raises(BillingError, match="make a key of the other kind"):
        await create_api_key(None, "saas", ["billing:refund"], SEEDED_AT)
    with pytest.raises(BillingError, match="make a key of the other kind"):
        await create_api_key("acme", "partner", ["organizations:write"], SEEDED_AT)


@pytest.mark.slow  # runs the command line in processes of its own
def test_the_command_line_makes_and_lists_platform_keys_rule_acc_6(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate").returncode == 0
    made = cli(tmp_path, "api-key", "create", "--platform", "--scope", "organizations:write")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("bgk_")
    portal = cli(tmp_path, "api-key", "create", "--platform", "--scope", "portal:write")
    assert portal.returncode == 0 and portal.stdout.startswith("bgk_"), portal.stderr
    listed = cli(tmp_path, "api-key", "list")
    assert "(platform)\toperator key\torganizations:write" in listed.stdout
    assert "(platform)\toperator key\tportal:write" in listed.stdout
    unknown = cli(tmp_path, "api-key", "create", "--platform", "--scope", "organizations:admin")
    assert unknown.returncode == 2
    assert (
        "Scopes must be some of "
        "['audit:read', 'coupons:write', 'exports:read', 'organizations:read', "
        "'organizations:write', 'portal:write', 'webhooks:write']" in (unknown.stderr)
    )
    both = cli(tmp_path, "api-key", "create", "acme", "--platform", "--scope", "usage:write")
    assert both.returncode == 2 and "not both" in both.stderr
