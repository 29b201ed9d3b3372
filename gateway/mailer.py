"""E-mail through SMTP (aiosmtplib), configured by SMTP_* settings; notices rendered by
gateway/emails.py, issued documents with their PDF by gateway/document_mail.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from gateway.document_mail import document_email
from gateway.emails import notice_email
from resolvers.document_mail import DocumentMail
from resolvers.notice_mail import NoticeMail


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line
    start_tls: bool = False
    timeout: float = 15.0
    public_url: str = "http://127.0.0.1:8000"  # the billing page's links start with it

    async def send(self, recipients: list[str], notice: NoticeMail) -> None:
        await self._deliver(notice_email(notice, self.sender, recipients, self.public_url))

    async def send_document(self, recipients: list[str], mail: DocumentMail) -> None:
        """An issued document with its PDF attached (resolvers/document_mail.py)."""
        await self._deliver(document_email(mail, self.sender, recipients))

    async def _deliver(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )
