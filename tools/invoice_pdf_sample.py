"""A sample invoice PDF with a discount, for docs/: the mid-period upgrade of the discount tests
(Email 1,000 to Email 1,500 ten days into a 31-day period, SPRING20's 20 % in force), quoted by
billing.quote as the gateway quotes it and drawn by gateway.invoice_pdf, then rendered to PNG
with pdftoppm (poppler-utils): `python -m tools.invoice_pdf_sample`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from billing import discounts, quote
from billing.invoices import InvoiceKind, InvoiceStatus
from billing.periods import BillingInterval
from billing.policies import DowngradeTiming, UpgradeProration
from billing.subscription_status import SubscriptionStatus
from gateway.invoice_pdf import render_invoice
from models import Invoice, InvoiceLine

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "invoice-discount.png"
START = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
SPRING20 = discounts.Coupon(
    "spring20", "20 % off for 3 months", discounts.CouponDuration.REPEATING, 2000, None, 3
)
DETAILS = {
    "issuer": {
        "name": "Demo SaaS Inc.",
        "address": ["1 Market Street", "San Francisco, CA 94105", "United States"],
        "email": "billing@demo-saas.test",
        "tax_id": "US 12-3456789",
    },
    "customer": {
        "company_name": "Initech LLC",
        "billing_email": "ap@initech.test",
        "address_line1": "4120 Freidrich Lane",
        "city": "Austin",
        "postal_code": "78744",
        "country": "US",
    },
}


def sample() -> tuple[Invoice, list[InvoiceLine]]:
    item = quote.Item("email", "Email", "email-1000", "Email 1,000", 3000)
    current = quote.Subscription(
        SubscriptionStatus.ACTIVE,
        BillingInterval.MONTHLY,
        START,
        START,
        datetime(2026, 4, 12, 9, 30, tzinfo=UTC),
        "USD",
        (item,),
    )
    wanted = replace(
        current, items=(replace(item, plan="email-1500", plan_name="Email 1,500", amount=4500),)
    )
    now = START + timedelta(days=10)
    policy = quote.Policy(UpgradeProration.PRORATE_KEEP_CYCLE, DowngradeTiming.END_OF_PERIOD)
    facts = quote.Facts(has_payment_method=True, discount=discounts.InForce(SPRING20, 3, True))
    q = quote.quote(current, wanted, quote.LineChange("email", policy, now), facts)
    invoice = Invoice(
        number="INITECH-0002",
        sequence=2,
        kind=InvoiceKind.PLAN_CHANGE,
        status=InvoiceStatus.PAID,
        currency=q.currency,
        total=q.total,
        discount_total=q.discount_total,
        credit_applied=q.credit_applied,
        amount_due=q.amount_due_now,
        issued_at=now,
        due_at=now,
        paid_at=now,
        period_start=current.period_start,
        period_end=current.period_end,
        billing_details=DETAILS,
    )
    lines = [
        InvoiceLine(
            position=i,
            description=line.description,
            amount=line.amount,
            discount=line.discount,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for i, line in enumerate(q.lines)
    ]
    return invoice, lines


def main() -> None:
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm (poppler-utils) is needed to render the PDF to PNG")
    invoice, lines = sample()
    with tempfile.TemporaryDirectory() as scratch:
        pdf = Path(scratch) / "invoice.pdf"
        pdf.write_bytes(render_invoice(invoice, lines))
        stem = Path(scratch) / "invoice"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(stem)], check=True
        )
        shutil.copyfile(stem.with_suffix(".png"), OUTPUT)
    print(OUTPUT)


if __name__ == "__main__":
    main()
