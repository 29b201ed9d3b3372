"""Notice e-mails (NOT-1) as a person reads them: plain text and HTML from the Jinja2 templates
in gateway/templates/email/, with Date and Message-ID headers, the invoice's number and amount
when the notice is about one, and a link to the billing page when there is something to do."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from resolvers.notice_mail import NoticeMail

BILLING_PAGE = "/billing"
# What the reader can do, for the kinds that ask something of them.
_ACTIONS = {
    "PAYMENT_FAILED": "Update the card or pay the invoice on the billing page",
    "PAYMENT_ACTION_REQUIRED": "Complete the payment's authentication on the billing page",
    "STATUS_CHANGED": "Review the subscription on the billing page",
    "LIMIT_REACHED": "Choose a larger plan or buy more on the billing page",
}

_templates = Environment(
    loader=PackageLoader("gateway", "templates/email"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,  # a template naming a missing fact fails in the tests, not silently
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def billing_page_url(public_url: str) -> str:
    return public_url.rstrip("/") + BILLING_PAGE


def notice_email(
    notice: NoticeMail,
    sender: str,
    recipients: list[str],
    public_url: str,
    now: datetime | None = None,
) -> EmailMessage:
    facts = {
        "notice": notice,
        "action": _ACTIONS.get(notice.kind) if notice.action_needed else None,
        "billing_url": billing_page_url(public_url),
    }
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = notice.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=notice.notice_id, domain=_domain(sender))
    message.set_content(_templates.get_template("notice.txt").render(facts))
    message.add_alternative(_templates.get_template("notice.html").render(facts), subtype="html")
    return message


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rpartition("@")[2] or "localhost"
