"""Reading report mails over IMAP (imap-tools): list, read, and file each mail away.

A mail is read in two steps: its headers and size first (a mail larger than the limit is never
downloaded), then the whole of it. Filing away moves it to another folder (created when missing)
and sets flags; nothing is ever deleted. Credentials come only from settings (``DUBAN_IMAP_*``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

from config.errors import SettingError
from config.settings import Settings

TIMEOUT = 60  # seconds per IMAP command
log = logging.getLogger("duban.mail")
MailboxError = (
    OSError,
    imaplib.IMAP4.error,
    UnexpectedCommandStatusError,
    MailboxLoginError,
    socket.timeout,
)
"""What a mail server or the network raises: the run stops, the mails stay where they are."""


_WHY: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (MailboxLoginError, "登录被拒绝：请检查 DUBAN_IMAP_USER 和 DUBAN_IMAP_PASSWORD"),
    (ssl.SSLError, "加密连接失败：请检查 DUBAN_IMAP_SECURITY（ssl、starttls、none）与端口是否相配"),
    (ConnectionRefusedError, "连接被拒绝：该主机的这个端口上没有邮件服务"),
    (socket.gaierror, "找不到这个主机名"),
    ((TimeoutError, socket.timeout), "连接超时：邮件服务器没有应答"),
    ((ConnectionError, imaplib.IMAP4.abort), "连接中断"),
)


def why(exc: BaseException) -> str:
    """One of :data:`MailboxError` said in Chinese, for the person who set the mailbox up."""
    for kind, text in _WHY:
        if isinstance(exc, kind):
            return text
    return f"邮件服务器返回错误（{type(exc).__name__}）"


class MailBusyError(Exception):
    """Another mail intake is reading the same data directory's mailbox right now."""


@dataclass(frozen=True)
class Heading:
    """A mail as its headers tell it, before its body is read."""

    uid: str
    key: str  # sha256 of its Message-ID (or, without one, of its main headers)
    message_id: str
    sender: str  # the From address, lowercase ("" when none can be read)
    reply_to: str  # where an answer goes: Reply-To, else From ("" when neither is an address)
    subject: str
    size: int
    automatic: bool  # a bounce, an auto-reply or a list mail: never answered


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes


@dataclass
class Mail:
    """A whole mail: its attachments and its raw bytes (kept when it cannot be read)."""

    heading: Heading
    attachments: list[Attachment] = field(default_factory=list)
    raw: bytes = b""


def _address(text: str) -> str:
    address = parseaddr(text)[1].strip().lower()
    return address if "@" in address and " " not in address else ""


def heading_of(message: MailMessage) -> Heading:
    """The heading of a mail fetched with or without its body."""
    headers = message.obj
    message_id = str(headers.get("Message-ID", "")).strip()
    sender = _address(message.from_)
    basis = message_id or "\x1f".join(
        [sender, message.date_str, message.subject, ",".join(message.to)]
    )
    auto = str(headers.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(headers.get("Precedence", "")).strip().lower()
    local = sender.partition("@")[0]
    return Heading(
        uid=message.uid or "",
        key=hashlib.sha256(basis.encode("utf-8", errors="replace")).hexdigest(),
        message_id=message_id,
        sender=sender,
        reply_to=next((a for a in map(_address, message.reply_to) if a), "") or sender,
        subject=message.subject,
        size=message.size_rfc822 or message.size,
        automatic=auto != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or local in {"mailer-daemon", "postmaster"}
        or not sender,
    )


def connect(settings: Settings) -> BaseMailBox:
    """A logged-in mailbox with the report folder selected (raises one of :data:`MailboxError`)."""
    if not settings.imap_host or not settings.imap_user or settings.imap_password is None:
        raise SettingError(
            "没有设置收信邮箱：请设置 DUBAN_IMAP_HOST、DUBAN_IMAP_USER 和 DUBAN_IMAP_PASSWORD"
            "（以及 DUBAN_IMAP_PORT、DUBAN_IMAP_SECURITY=ssl|starttls|none）"
        )
    host, port = settings.imap_host, settings.imap_port
    mailbox: BaseMailBox
    if settings.imap_security == "ssl":
        mailbox = MailBox(host, port, timeout=TIMEOUT, ssl_context=ssl.create_default_context())
    elif settings.imap_security == "starttls":
        context = ssl.create_default_context()
        mailbox = MailBoxStartTls(host, port, timeout=TIMEOUT, ssl_context=context)
    else:
        mailbox = MailBoxUnencrypted(host, port, timeout=TIMEOUT)
    password = settings.imap_password.get_secret_value()
    try:
        return mailbox.login(settings.imap_user, password, initial_folder=settings.imap_folder)
    except BaseException:
        close(mailbox)
        raise


def close(mailbox: BaseMailBox) -> None:
    """Log out if the server still listens; close the connection in any case."""
    try:
        mailbox.logout()
    except Exception:  # a broken connection is closed below either way
        log.info("收信：退出登录失败，直接断开连接")
    with contextlib.suppress(OSError):
        mailbox.client.shutdown()


def headings(mailbox: BaseMailBox, limit: int) -> list[Heading]:
    """The first ``limit`` mails of the selected folder, oldest first, headers only (no mail is
    marked read)."""
    found = mailbox.fetch("ALL", limit=limit, mark_seen=False, headers_only=True, bulk=True)
    return [heading_of(m) for m in found]


def read_mail(mailbox: BaseMailBox, heading: Heading) -> Mail | None:
    """The whole mail (None if it is gone meanwhile); every attachment with a file name."""
    found = list(mailbox.fetch(AND(uid=heading.uid), mark_seen=False))
    if not found:
        return None
    message = found[0]
    files = [Attachment(a.filename, a.payload) for a in message.attachments if a.filename]
    return Mail(heading, files, bytes(message.obj))


def file_away(mailbox: BaseMailBox, uid: str, folder: str, *, flagged: bool = False) -> None:
    """Mark the mail read (and flagged), then move it to ``folder``, created when missing."""
    flags = ["\\Seen", "\\Flagged"] if flagged else ["\\Seen"]
    mailbox.flag(uid, flags, value=True)
    if not mailbox.folder.exists(folder):
        mailbox.folder.create(folder)
    mailbox.move(uid, folder)


@contextlib.contextmanager
def intake_lock(home: Path) -> Iterator[None]:
    """One mail intake per data directory at a time; raises :class:`MailBusyError` at once
    when another holds it."""
    folder = home / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MailBusyError from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
