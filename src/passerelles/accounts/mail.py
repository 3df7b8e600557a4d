"""Outgoing e-mail through SMTP (smtplib). Tests run a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from passerelles.settings import Settings


class MailError(Exception):
    pass


def send_mail(settings: Settings, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
    message = EmailMessage()
    for name, value in (headers or {}).items():
        message[name] = value
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Envoi du courriel impossible ({settings.smtp_host}:{settings.smtp_port})") from exc
