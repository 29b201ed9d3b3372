"""E-mail through SMTP (aiosmtplib), configured by SMTP_* settings; notices rendered by
gateway/emails.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiosmtplib

from gateway.emails import notice_email
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
        message = notice_email(notice, self.sender, recipients, self.public_url)
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )
