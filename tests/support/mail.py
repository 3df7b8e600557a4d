"""The mailbox behind the tests' real SMTP server (aiosmtpd): what was sent, to whom, with which links."""

from __future__ import annotations

import re
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

from passerelles.accounts.mail import wait_for_pending


def last_link(messages: list[Message], address: str, path: str) -> str:
    """The last link to ``path`` in these messages (path and query only)."""
    for message in reversed(messages):
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", body)
        if found:
            return found.group(1)
    raise AssertionError(f"aucun lien {path} envoyé à {address}")


class Mailbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        wait_for_pending()  # mails sent in the background (password reset) have arrived
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path: str) -> str:
        """The last link to ``path`` sent to ``address`` (path and query only)."""
        return last_link(self.to(address), address, path)


class Outbox:
    """The development outbox (``PASSERELLES_MAIL_TRANSPORT=outbox``) read as a mailbox: one ``.eml`` a mail."""

    def __init__(self, folder: Any) -> None:
        self.folder = folder

    @property
    def messages(self) -> list[Message]:
        wait_for_pending()
        if not self.folder.is_dir():
            return []
        return [message_from_bytes(p.read_bytes()) for p in sorted(self.folder.glob("*.eml"))]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path: str) -> str:
        return last_link(self.to(address), address, path)
