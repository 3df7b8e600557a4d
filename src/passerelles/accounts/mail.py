"""Outgoing e-mail through SMTP (smtplib), or, in development, into an outbox folder (one ``.eml`` file a
message, read at ``/dev/courriels``). Tests run a real local SMTP server (aiosmtpd).

``send_mail`` sends now and raises ``MailError``; ``in_background`` runs a job that sends mail in a
background thread, so that a request's answer and timing depend neither on the mail server nor on what the
job finds (password reset answers the same for known and unknown addresses, mail server up or down)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import smtplib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path
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
    message["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = make_msgid(domain="passerelles.invalid")
    message.set_content(body)
    outbox = settings.mail_outbox
    if outbox is not None:
        _write_outbox(outbox, message)
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Envoi du courriel impossible ({settings.smtp_host}:{settings.smtp_port})") from exc


# ------------------------------------------------------------------------------ the development outbox

OUTBOX_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}[0-9]{6}-[0-9a-f]{8}\.eml$")


def _write_outbox(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
    # Written whole then renamed: a reader never sees half a message.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(message.as_bytes(policy=policy.SMTP))
    tmp.rename(path)


@dataclass(frozen=True)
class OutboxMail:
    name: str
    to: str
    subject: str
    date: str
    body: str


def _read_outbox_file(path: Path) -> OutboxMail:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    part = parsed.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    return OutboxMail(
        name=path.name,
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        date=str(parsed["Date"] or ""),
        body=body,
    )


def outbox_messages(folder: Path, limit: int = 200) -> list[OutboxMail]:
    """The newest messages of the outbox first (file names sort by time)."""
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if OUTBOX_NAME.match(p.name)), reverse=True)[:limit]
    return [_read_outbox_file(folder / name) for name in names]


def outbox_message(folder: Path, name: str) -> OutboxMail | None:
    """One message by its file name; any other name (a path, a dot-dot) is simply not found."""
    if not OUTBOX_NAME.match(name):
        return None
    path = folder / name
    return _read_outbox_file(path) if path.is_file() else None


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
