"""The PDF of an invoice with tax (TAX-1), rendered to PNG for people to look at:
`python -m tools.invoice_png` (and `--code SPRING20` for one with a discount as well, DSC-2). A
sandbox gateway (tools/served_portal.py) with the demo data; Acme becomes an Italian consumer
(22 % VAT) and upgrades its email plan mid-period, with the promotion code if given; the
plan-change invoice's PDF is fetched as its billing admin would and drawn with Poppler's pdftoppm
(`apt-get install -y poppler-utils`) into docs/invoices/. `--credit-note`: a credit note's PDF
(CRN-1) into docs/credit-notes/ instead."""

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
OUTPUT_CREDIT_NOTE = ROOT / "docs" / "credit-notes" / "credit-note.png"
SUBSCRIBE = """mutation ($input: PlanChangeInput!, $due: Int!) {
  subscribe(input: $input, confirmAmountDue: $due) { __typename
  ... on PlanChangeApplied { invoice { number amountDue { formatted } } }
  ... on UserError { message } } }"""
CREDIT_NOTES = """{ organization { creditBalance { formatted }
  creditNotes(first: 1) { edges { node { number pdfUrl total { formatted } tax { formatted }
  invoice { number } } } } } }"""
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


def _applied(result: dict[str, Any]) -> dict[str, Any]:
    if result["__typename"] != "PlanChangeApplied":
        raise SystemExit(f"the change was not applied: {result}")
    return result


def _credit_note_pdf(url: str) -> tuple[bytes, str]:
    """CRN-1: Globex, an Italian consumer (22 % VAT), subscribes to Marketing Plus for a year,
    then switches to monthly 40 days later: the unused time beyond the new month's charge is a
    credit note added to the credit balance."""
    token = sandbox_token(url, "billing@globex.test")
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        _ask(http, BILLING_INFO, {"input": {**ITALIAN_CONSUMER, "companyName": "Globex Italia"}})
        _ask(
            http,
            'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
            {},
        )
        annual = {"product": "marketing", "billingInterval": "ANNUAL"}
        due = _ask(http, PREVIEW, {"input": annual})["previewPlanChange"]["amountDueNow"]
        _applied(_ask(http, SUBSCRIBE, {"input": annual, "due": due["amount"]})["subscribe"])
        _ask(http, "mutation { advanceTestClock(days: 40) { now } }", {})
        monthly = {"product": "marketing", "billingInterval": "MONTHLY"}
        due = _ask(http, PREVIEW, {"input": monthly})["previewPlanChange"]["amountDueNow"]
        _applied(_ask(http, CHANGE, {"input": monthly, "due": due["amount"]})["changePlan"])
        organization = _ask(http, CREDIT_NOTES, {})["organization"]
        note = organization["creditNotes"]["edges"][0]["node"]
        pdf = http.get(note["pdfUrl"])
        pdf.raise_for_status()
    said = (
        f"{note['number']} for {note['invoice']['number']}: {note['total']['formatted']} "
        f"({note['tax']['formatted']} VAT) to the credit balance, now "
        f"{organization['creditBalance']['formatted']}"
    )
    return pdf.content, said


def _png(pdftoppm: str, pdf: bytes, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "document.pdf"
        source.write_bytes(pdf)
        stem = output.with_suffix("")
        subprocess.run(
            [pdftoppm, "-png", "-r", "90", "-singlefile", str(source), str(stem)], check=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", help="a promotion code to upgrade with (e.g. SPRING20)")
    parser.add_argument(
        "--credit-note", action="store_true", help="a credit note's PDF instead (CRN-1)"
    )
    arguments = parser.parse_args()
    code: str | None = arguments.code
    output = OUTPUT_DISCOUNTED if code else OUTPUT
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("no pdftoppm: install Debian's poppler-utils")
    if arguments.credit_note:
        with served_sandbox() as url:
            content, said = _credit_note_pdf(url)
        _png(pdftoppm, content, OUTPUT_CREDIT_NOTE)
        print(f"wrote {OUTPUT_CREDIT_NOTE.relative_to(ROOT)}: {said}")
        return
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
    _png(pdftoppm, pdf.content, output)
    due = invoice["amountDue"]["formatted"]
    print(f"wrote {output.relative_to(ROOT)}: {invoice['number']}, {due} charged")


if __name__ == "__main__":
    main()
