"""Real SMTP servers on 127.0.0.1: an aiosmtpd inbox (optionally with AUTH), and a
silent one that accepts connections and never answers (a hung relay)."""

from __future__ import annotations

import email
import socket
import threading
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, inbox: SmtpInbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.inbox.reject_next > 0:
            self.inbox.reject_next -= 1
            return self.inbox.reject_reply
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.inbox.messages.append(msg)
        self.inbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpInbox:
    """``with SmtpInbox() as inbox: ... inbox.url ... inbox.messages``."""

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        """``auth=(login, password)``: AUTH PLAIN/LOGIN required (over plain TCP, for tests)."""
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject_next = 0
        self.reject_reply = "451 4.3.0 try again later"
        self.port = free_port()
        self.auth = auth
        extra: dict[str, Any] = {}
        if auth is not None:
            extra = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **extra)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        expected = tuple(x.encode() for x in self.auth or ())
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535

    def to(self, address: str) -> list[EmailMessage]:
        """Messages whose To header is ``address``."""
        return [m for m in self.messages if m["To"] == address]

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpInbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class SilentSmtpServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte (not even a greeting).

    ``with SilentSmtpServer() as s: ... s.url ... s.connections``. With ``drip=True`` it
    sends its greeting one byte every 0.2 s and never ends the line, so that no single
    read ever times out (a hung relay that a per-read socket timeout cannot catch).
    """

    def __init__(self, *, drip: bool = False) -> None:
        self.drip = drip
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)
            if self.drip:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        while not self._stop.wait(0.2):
            try:
                conn.sendall(b"2")
            except OSError:
                return

    def __enter__(self) -> SilentSmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._sock.close()
