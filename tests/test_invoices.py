"""Invoices: billing information kept as issued (INV-3), sequential numbers (INV-2), the PDF for
billing managers only (ACC-3, ACC-5), the paginated list filtered by status."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models import Invoice
from tests.conftest import SEEDED_AT, GraphQLClient, token_for
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
UPDATE = """mutation ($input: BillingInfoInput!) { updateBillingInfo(input: $input) {
  __typename ... on BillingInfoUpdated { billingInfo { companyName country } } ... on UserError { code field message } } }"""
UPGRADE = 'mutation ($plan: String!, $due: Int!) { changePlan(input: {product: "email", plan: $plan}, confirmAmountDue: $due) { __typename } }'
INVOICES = """{ organization { invoices(first: 10) { totalCount edges { node { number status billedTo { name lines } issuer { name } pdfUrl } } } } }"""


async def test_issued_invoices_keep_the_billing_details_they_were_issued_with(
    gql: GraphQLClient,
) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    details = {
        "companyName": "Initech S.r.l.",
        "billingEmail": "ap@initech.test",
        "addressLine1": "Via Roma 1",
        "city": "Milano",
        "postalCode": "20121",
        "country": "it",
        "taxId": "IT00743110157",
    }
    updated = (await gql(UPDATE, {"input": details}, as_user=owner))["data"]["updateBillingInfo"]
    assert updated == {
        "__typename": "BillingInfoUpdated",
        "billingInfo": {"companyName": "Initech S.r.l.", "country": "IT"},
    }
    assert (await gql(UPGRADE, {"plan": "email-1500", "due": 1016}, as_user=owner))["data"][
        "changePlan"
    ]["__typename"] == "PlanChangeApplied"
    await gql(UPDATE, {"input": {**details, "companyName": "Initech Holding"}}, as_user=owner)
    preview = 'query { previewPlanChange(input: {product: "email", plan: "email-2500"}) { amountDueNow { amount } } }'
    due = (await gql(preview, as_user=owner))["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    await gql(UPGRADE, {"plan": "email-2500", "due": due}, as_user=owner)
    edges = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"]
    newest, first = edges[0]["node"], edges[1]["node"]
    assert (first["billedTo"]["name"], newest["billedTo"]["name"]) == (
        "Initech S.r.l.",
        "Initech Holding",
    )
    assert first["billedTo"]["lines"] == [
        "Via Roma 1",
        "20121 Milano",
        "IT",
        "ap@initech.test",
        "Tax id IT00743110157",
    ]
    assert first["issuer"]["name"] == "Demo SaaS Inc."
    assert [first["number"][-5:], newest["number"][-5:]] == ["00001", "00002"]  # INV-2


async def test_bad_billing_information_is_refused(gql: GraphQLClient) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    for field, value, code_field in [
        ("companyName", " ", "companyName"),
        ("billingEmail", "nobody", "billingEmail"),
        ("country", "Italy", "country"),
    ]:
        body = await gql(
            UPDATE,
            {"input": {"companyName": "Initech", "billingEmail": "ap@initech.test", field: value}},
            as_user=owner,
        )
        assert body["data"]["updateBillingInfo"]["field"] == code_field
    assert (await gql("{ organization { billingInfo { companyName } } }", as_user=owner))["data"][
        "organization"
    ]["billingInfo"] is None


async def test_invoice_pdf_for_billing_managers_only(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await gql(UPGRADE, {"plan": "email-1500", "due": 1016}, as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id)
    url = f"/invoices/{invoice.id}.pdf"
    response = await client.get(url, headers={"Authorization": f"Bearer {await token_for(owner)}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert (await client.get(url)).status_code == 401
    other = await client.get(
        url, headers={"Authorization": f"Bearer {await token_for('owner@acme.test')}"}
    )
    assert other.status_code == 404  # ACC-5: another organization's invoice is not there
    member = await client.get(
        f"/invoices/{invoice.id}.pdf".replace(str(invoice.id), "not-an-id"),
        headers={"Authorization": f"Bearer {await token_for(owner)}"},
    )
    assert member.status_code == 404


async def test_acme_member_cannot_download_an_acme_invoice(client: httpx.AsyncClient) -> None:
    # rule ACC-3
    acme_invoice = await Invoice.filter(organization__slug="acme").first()
    assert acme_invoice is not None
    response = await client.get(
        f"/invoices/{acme_invoice.id}.pdf",
        headers={"Authorization": f"Bearer {await token_for('member@acme.test')}"},
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_invoices_page_and_filter(gql: GraphQLClient) -> None:
    page = "query ($after: String, $status: InvoiceStatus) { organization { invoices(first: 2, after: $after, status: $status) { totalCount pageInfo { hasNextPage endCursor } edges { node { number status } } } } }"
    first = (await gql(page, as_user="billing@acme.test"))["data"]["organization"]["invoices"]
    # The demo catalog: three earlier monthly invoices and the current period's, all PAID.
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["number"] for e in first["edges"]] == ["ACME-00004", "ACME-00003"]
    second = (
        await gql(page, {"after": first["pageInfo"]["endCursor"]}, as_user="billing@acme.test")
    )["data"]["organization"]["invoices"]
    assert [e["node"]["number"] for e in second["edges"]] == ["ACME-00002", "ACME-00001"]
    assert second["pageInfo"]["hasNextPage"] is False
    open_only = (await gql(page, {"status": "OPEN"}, as_user="billing@acme.test"))["data"][
        "organization"
    ]["invoices"]
    assert open_only["totalCount"] == 0
    bad = await gql(page, {"after": "garbage"}, as_user="billing@acme.test")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_invoice_with_its_lines(gql: GraphQLClient) -> None:
    acme_invoice = await Invoice.filter(organization__slug="acme").order_by("sequence").first()
    assert acme_invoice is not None
    one = "query ($id: ID!) { organization { invoice(id: $id) { number total { formatted } lines { description amount { amount } } } } }"
    body = await gql(one, {"id": str(acme_invoice.id)}, as_user="owner@acme.test")
    invoice = body["data"]["organization"]["invoice"]
    assert invoice["number"] == "ACME-00001" and invoice["total"] == {"formatted": "$234.00"}
    assert [line["amount"]["amount"] for line in invoice["lines"]] == [15900, 3000, 4500]
    other = await gql(one, {"id": str(acme_invoice.id)}, as_user="owner@globex.test")  # ACC-5
    assert other["data"]["organization"]["invoice"] is None
