"""Outgoing e-mail through SMTP (smtplib). Tests run a real local SMTP server (aiosmtpd).

``send_mail`` sends now and raises ``MailError``; ``in_background`` runs a job that sends mail in a
background thread, so that a request's answer and timing depend neither on the mail server nor on what the
job finds (password reset answers the same for known and unknown addresses, mail server up or down)."""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from email.message import EmailMessage
from typing import Any

from passerelles.settings import Settings

log = logging.getLogger(__name__)


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


_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="passerelles-mail")
_pending: set[Future[None]] = set()
_pending_lock = threading.Lock()


def _run(job: Callable[..., None], *args: Any) -> None:
    try:
        job(*args)
    except MailError as exc:
        # No one is waiting for this answer: the failure is logged for the operator (no address in it).
        log.warning("Courriel non envoyé : %s", exc)
    except Exception:
        log.exception("Échec d'un envoi de courriel en arrière-plan")


def in_background(job: Callable[..., None], *args: Any) -> None:
    """Run ``job(*args)`` (which sends mail) in a background thread; a failure is logged, never raised."""
    future = _executor.submit(_run, job, *args)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_pending(timeout: float = 30.0) -> None:
    """Wait until the jobs handed to ``in_background`` so far are done (tests, and a CLI before it exits)."""
    with _pending_lock:
        pending = set(_pending)
    wait(pending, timeout=timeout)
