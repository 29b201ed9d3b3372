"""The PDF of an invoice with tax (TAX-1), rendered to PNG for people to look at:
`python -m tools.invoice_png` (and `--code SPRING20` for one with a discount as well, DSC-2). A
sandbox gateway (tools/served_portal.py) with the demo data; Acme becomes an Italian consumer
(22 % VAT) and upgrades its email plan mid-period, with the promotion code if given; the
plan-change invoice's PDF is fetched as its billing admin would and drawn with Poppler's pdftoppm
(`apt-get install -y poppler-utils`) into docs/invoices/."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from tools.served_portal import sandbox_token, served_sandbox

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "invoices" / "invoice-with-tax.png"
OUTPUT_DISCOUNTED = ROOT / "docs" / "invoices" / "invoice-with-discount-and-tax.png"
BILLING_INFO = """mutation ($input: BillingInfoInput!) { updateBillingInfo(input: $input) {
  __typename ... on UserError { message } } }"""
PREVIEW = """query ($input: PlanChangeInput!, $code: String) {
  previewPlanChange(input: $input, promotionCode: $code) { amountDueNow { amount } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $due: Int!, $code: String) {
  changePlan(input: $input, confirmAmountDue: $due, promotionCode: $code) { __typename
  ... on PlanChangeApplied { invoice { number pdfUrl amountDue { formatted } } }
  ... on UserError { message } } }"""
ITALIAN_CONSUMER = {
    "companyName": "Rossi Design",
    "billingEmail": "conti@rossi.test",
    "addressLine1": "Via Roma 1",
    "city": "Milano",
    "postalCode": "20121",
    "country": "IT",
    "contactName": "Giulia Rossi",
}


def _ask(http: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = http.post(
        "/graphql", json={"query": query, "variables": variables}
    ).json()
    if body.get("errors"):
        raise SystemExit(f"the gateway refused: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", help="a promotion code to upgrade with (e.g. SPRING20)")
    code: str | None = parser.parse_args().code
    output = OUTPUT_DISCOUNTED if code else OUTPUT
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("no pdftoppm: install Debian's poppler-utils")
    with served_sandbox() as url:
        token = sandbox_token(url, "billing@acme.test")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            _ask(http, BILLING_INFO, {"input": ITALIAN_CONSUMER})
            change = {"product": "email", "plan": "email-1500"}
            asked = {"input": change, "code": code}
            due = _ask(http, PREVIEW, asked)["previewPlanChange"]["amountDueNow"]
            applied = _ask(http, CHANGE, {**asked, "due": due["amount"]})["changePlan"]
            if applied["__typename"] != "PlanChangeApplied":
                raise SystemExit(f"the change was not applied: {applied}")
            invoice = applied["invoice"]
            pdf = http.get(invoice["pdfUrl"])
            pdf.raise_for_status()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "invoice.pdf"
        source.write_bytes(pdf.content)
        stem = output.with_suffix("")
        subprocess.run(
            [pdftoppm, "-png", "-r", "90", "-singlefile", str(source), str(stem)], check=True
        )
    due = invoice["amountDue"]["formatted"]
    print(f"wrote {output.relative_to(ROOT)}: {invoice['number']}, {due} charged")


if __name__ == "__main__":
    main()
