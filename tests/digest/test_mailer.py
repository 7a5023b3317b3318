"""Delivery over a real SMTP server (aiosmtpd on 127.0.0.1): MIME, headers, escaping, once-only."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import select

from pipeline.config import SEEDS_DIR, Settings
from pipeline.digest.deliver import CLAIM_LEASE, run_digest
from pipeline.digest.mailer import build_message, parse_smtp_url, sanitize_header, send_message
from pipeline.errors import ConfigError, DeliveryError, DeliveryRejected
from storage.db import make_engine, migrate, session_scope
from storage.models import Digest
from tests.fixtures.digest import scenario as sc
from tests.support.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "digest"
HOSTILE = '<script>alert("x")</script>\r\nBcc: victim@example.org\r\n' + "W" * 3000


class Recorder:
    """aiosmtpd handler: records messages; can refuse recipients or stall DATA with 4xx."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.reject: dict[str, str] = {}
        self.data_failures = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_failures > 0:
                self.data_failures -= 1
                return "451 4.3.0 try again later"
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def to(self, rcpt: str) -> list[Any]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(raw) for _, tos, raw in self.messages if rcpt in tos]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def smtp():
    handler = Recorder()
    ctl = Controller(handler, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    yield handler, f"smtp://127.0.0.1:{ctl.port}?timeout=5&retries=1&retry_delay=0"
    ctl.stop()


@pytest.fixture()
def env(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'newsmon.db'}")
    migrate(engine)
    loader = sc.load_scenario(engine, SEEDS_DIR)
    settings = Settings(
        home=tmp_path,
        database_url=str(engine.url),
        feeds_path=tmp_path,
        actors_path=tmp_path,
        digest_from="digest@newsmon.example",
        digest_to=("anna@example.org", "ben@example.org"),
    )
    yield settings, engine, loader
    engine.dispose()


def _rows(engine) -> dict[str, Digest]:
    with session_scope(engine) as s:
        return {r.recipient: r for r in s.exec(select(Digest).where(Digest.day == sc.DAY))}


def test_digest_arrives_as_multipart_alternative(env, smtp) -> None:
    settings, engine, _ = env
    handler, url = smtp
    rep = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert rep.sent_to == ("anna@example.org", "ben@example.org") and not rep.failed
    (msg,) = handler.to("anna@example.org")
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text, markup = plain.get_content(), html.get_content()
    assert "Nordkorea beendet Verzicht auf Atom- und Raketentests" in text
    assert "<https://de.nachrichten.yahoo.com/" in text and "<table" not in text
    assert "<table" in markup and "Nordkorea beendet Verzicht" in markup
    assert msg["Subject"].startswith("Korea-Lage 01.01.2020: 7 Meldungen, 19 Artikel")
    assert msg["List-Id"] == "newsmon digest <digest.newsmon.example>"
    assert msg["Message-ID"].startswith("<digest.2020-01-01.") and msg["Message-ID"].endswith(
        ".1@newsmon.example>"
    )
    assert msg["Date"] and msg["To"] == "anna@example.org"
    other = handler.to("ben@example.org")[0]
    assert other["Message-ID"] != msg["Message-ID"]  # per recipient


def test_retry_never_sends_twice_and_resend_does(env, smtp) -> None:
    settings, engine, _ = env
    handler, url = smtp
    run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    again = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert again.sent_to == () and set(again.skipped) == {"anna@example.org", "ben@example.org"}
    assert len(handler.messages) == 2
    first_id = handler.to("anna@example.org")[0]["Message-ID"]

    re = run_digest(
        settings,
        engine,
        sc.DAY,
        send=True,
        smtp_url=url,
        resend=True,
        recipients=["anna@example.org"],
    )
    assert re.sent_to == ("anna@example.org",)
    msgs = handler.to("anna@example.org")
    assert len(msgs) == 2 and msgs[1]["Message-ID"] != first_id
    rows = _rows(engine)
    assert rows["anna@example.org"].send_count == 2 and rows["ben@example.org"].send_count == 1
    assert rows["anna@example.org"].status == "sent"


def test_concurrent_tasks_send_once(env, smtp) -> None:
    settings, engine, _ = env
    handler, url = smtp
    results: list[Any] = []

    def task() -> None:
        results.append(run_digest(settings, engine, sc.DAY, send=True, smtp_url=url))

    threads = [threading.Thread(target=task) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 3
    assert len(handler.to("anna@example.org")) == 1 and len(handler.to("ben@example.org")) == 1
    assert sum(len(r.sent_to) for r in results) == 2


def test_abandoned_claim_is_taken_over_with_same_message_id(env, smtp) -> None:
    settings, engine, _ = env
    handler, url = smtp
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as s:  # a worker claimed anna and died mid-send
        s.add(
            Digest(
                day=sc.DAY,
                recipient="anna@example.org",
                status="sending",
                send_count=1,
                created_at=now,
                sent_at=now,
            )
        )
    fresh = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    # lease still held: another task may be sending, or died; in doubt, so the task must retry
    assert fresh.skipped == () and fresh.busy == ("anna@example.org",)
    with pytest.raises(DeliveryError, match="another run is sending"):
        fresh.raise_for_failures()
    with session_scope(engine) as s:
        row = s.exec(select(Digest).where(Digest.recipient == "anna@example.org")).one()
        row.sent_at = now - CLAIM_LEASE - dt.timedelta(minutes=1)
        s.add(row)
    late = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert late.sent_to == ("anna@example.org",)
    (msg,) = handler.to("anna@example.org")
    assert msg["Message-ID"].endswith(".1@newsmon.example>")  # same send, same id
    assert _rows(engine)["anna@example.org"].send_count == 1


def test_rejected_recipient_fails_then_retry_sends_the_rest(env, smtp) -> None:
    settings, engine, _ = env
    handler, url = smtp
    handler.reject["ben@example.org"] = "554 5.7.1 relay denied"
    rep = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert rep.sent_to == ("anna@example.org",) and rep.failed == ("ben@example.org",)
    with pytest.raises(DeliveryError, match=r"ben@example\.org"):
        rep.raise_for_failures()
    row = _rows(engine)["ben@example.org"]
    assert row.status == "failed" and "554" in (row.last_error or "")

    handler.reject.clear()
    retry = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert retry.sent_to == ("ben@example.org",) and retry.skipped == ("anna@example.org",)
    assert len(handler.to("anna@example.org")) == 1 and len(handler.to("ben@example.org")) == 1


def test_transient_451_is_retried_by_the_mailer(smtp) -> None:
    handler, url = smtp
    handler.data_failures = 1
    msg = build_message(
        subject="s",
        text="t",
        html="<p>h</p>",
        sender="a@x.example",
        recipient="b@x.example",
        msg_id="<1@x.example>",
        list_id="l <l.x>",
        date_=dt.datetime(2020, 1, 2, tzinfo=dt.UTC),
    )
    assert send_message(msg, parse_smtp_url(url)) == 2
    assert len(handler.messages) == 1
    handler.data_failures = 5
    with pytest.raises(DeliveryError) as err:
        send_message(msg, parse_smtp_url(url))
    assert err.value.transient and "gave up after 2 attempts" in str(err.value)


def test_unreachable_server_is_a_delivery_error(env) -> None:
    settings, engine, _ = env
    url = f"smtp://127.0.0.1:{_free_port()}?timeout=2&retries=1&retry_delay=0"
    rep = run_digest(settings, engine, sc.DAY, send=True, smtp_url=url)
    assert rep.failed == ("anna@example.org", "ben@example.org") and not rep.sent_to


def test_hostile_title_is_escaped_and_never_reaches_a_header(env, smtp) -> None:
    settings, engine, loader = env
    handler, url = smtp
    when = dt.datetime(2020, 1, 1, 10, tzinfo=dt.UTC)
    for i in range(9):  # enough outlets to make it the top story (and the subject)
        loader.article(
            f"evil{i}",
            story="evil",
            url=f"https://evil{i}.example/a?x=<b>",
            title=HOSTILE,
            source=f"evil{i}.example<i>",
            language="de",
            fetched_at=when,
            text=HOSTILE + " Nordkorea. Pjöngjang drohte.",
            relevant=True,
        )
    run_digest(settings, engine, sc.DAY, send=True, smtp_url=url, recipients=["anna@example.org"])
    ((_, _, raw),) = handler.messages
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    # only folded continuations (leading space) may carry title text; no new header appears
    assert not any(line.lower().startswith(b"bcc") for line in lines)
    assert all(len(line) <= 998 for line in raw.splitlines())
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert len(msg["Subject"]) <= 200 and "<script>" in msg["Subject"]  # as text, on one line
    assert msg["Bcc"] is None
    assert set(msg.keys()) == {
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "List-Id",
        "Auto-Submitted",
        "Precedence",
        "MIME-Version",
        "Content-Type",
    }
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "evil0.example&lt;i&gt;" in html and "x=&lt;b&gt;" in html
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "<script>" in text and "\r\nBcc" not in text


def test_header_sanitising_and_url_parsing() -> None:
    assert sanitize_header("a\r\nBcc: x\x00y", 50) == "a Bcc: x y"
    assert len(sanitize_header("x" * 500)) == 200
    cfg = parse_smtp_url("smtps://us%40er:p%3Ass@mail.example:2465?timeout=7&retries=0")
    assert (cfg.security, cfg.username, cfg.password, cfg.port, cfg.timeout, cfg.retries) == (
        "tls",
        "us@er",
        "p:ss",
        2465,
        7.0,
        0,
    )
    assert parse_smtp_url("smtp://h?starttls=1").port == 587
    assert parse_smtp_url("smtp://h").security == "none"
    for bad in ("http://h", "smtp://", "smtp://h?timeout=x", "smtp://h?retries=99"):
        with pytest.raises(ConfigError):
            parse_smtp_url(bad)
    with pytest.raises(DeliveryRejected):
        build_message(
            subject="s",
            text="t",
            html="h",
            sender="a@b.example",
            recipient="no addr",
            msg_id="<x@y>",
            list_id="l",
            date_=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        )


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _auth(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"newsmon",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_and_starttls_with_login(env, tmp_path: Path, mode: str) -> None:
    settings, engine, _ = env
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    handler = Recorder()
    port = _free_port()
    if mode == "starttls":
        ctl = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=server_ctx,
            require_starttls=True,
            authenticator=_auth,
            auth_required=True,
        )
        url = f"smtp://newsmon:s3cret@127.0.0.1:{port}?starttls=1&cafile={cert}&timeout=5"
    else:
        ctl = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ssl_context=server_ctx,
            authenticator=_auth,
            auth_required=True,
            auth_require_tls=False,
        )
        url = f"smtps://newsmon:s3cret@127.0.0.1:{port}?cafile={cert}&timeout=5"
    ctl.start()
    try:
        rep = run_digest(
            settings, engine, sc.DAY, send=True, smtp_url=url, recipients=["anna@example.org"]
        )
        assert rep.sent_to == ("anna@example.org",), rep.notes
        assert len(handler.messages) == 1
    finally:
        ctl.stop()
