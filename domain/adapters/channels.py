"""Where messages go: a folder (the embedded default), SMTP mail, and (later) IM webhooks.

Every channel raises :class:`ChannelError` for a failure worth retrying; the caller keeps the
message pending with the error. Credentials come only from settings (``DUBAN_SMTP_*``).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import re
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Protocol

from config.settings import get_settings
from domain.adapters.files import write_atomically


@dataclass(frozen=True)
class OutgoingMessage:
    """What a channel needs to send one digest."""

    message_id: int
    plan_id: str
    recipient: str
    address: str | None
    subject: str
    body: str
    html: str | None = None  # an HTML alternative (a briefing)
    attachments: tuple[Path, ...] = ()


class ChannelError(Exception):
    """Sending failed; try again later."""


class Channel(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> None: ...


class FileChannel:
    """Writes each message to ``<DUBAN_HOME>/outbox/<message id>-<recipient>.txt`` (idempotent).

    Each file is written whole under a temporary name and renamed into place. On its own the
    channel flushes each file to disk before :meth:`send` returns; ``deferred`` (a delivery
    run's), it leaves that to :meth:`settle`, which flushes every file written since, and
    the folder, at once (the filesystem commits them together)."""

    name = "file"

    def __init__(self, folder: Path | None = None, *, deferred: bool = False) -> None:
        self.folder = folder or get_settings().home / "outbox"
        self.deferred = deferred
        self._unsynced: dict[int, list[Path]] = {}
        self._made = False

    def send(self, message: OutgoingMessage) -> None:
        if not self._made:  # once a channel: a run sends thousands
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made = True
        path = self.folder / f"{message.message_id:06d}-{message.recipient.replace('/', '-')}.txt"
        to = message.address or f"（{message.recipient}：目录中没有地址）"
        text = f"收件人：{to}\n主题：{message.subject}\n\n{message.body}"
        if message.attachments:
            text += "\n\n附件：\n" + "\n".join(f"  {a.name}" for a in message.attachments)
        self._write(message.message_id, path, text.encode("utf-8"))
        if message.html is not None:
            self._write(message.message_id, path.with_suffix(".html"), message.html.encode("utf-8"))
        for attachment in message.attachments:
            self._write(
                message.message_id,
                path.with_name(f"{path.stem}-{attachment.name}"),
                attachment.read_bytes(),
            )

    def _write(self, message_id: int, path: Path, data: bytes) -> None:
        if not self.deferred:
            write_atomically(path, data)
            return
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        self._unsynced.setdefault(message_id, []).append(path)

    def settle(self, results: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
        """``results`` (message id, error) once every file written since the last call is on
        disk with its name; a message whose file could not be flushed gets that error."""
        written, self._unsynced = self._unsynced, {}
        if not written:
            return results
        paths = [(m, p) for m, some in written.items() for p in some]
        with ThreadPoolExecutor(SYNC_THREADS) as pool:  # fsyncs at once share a journal commit
            errors = dict(e for e in pool.map(_fsync, paths) if e is not None)
        # the renames are durable once the folder is (Windows cannot open a folder for this)
        folder = _fsync((0, self.folder)) if os.name != "nt" else None
        if folder is not None:
            errors = dict.fromkeys(written, folder[1])
        return [(m, error or errors.get(m)) for m, error in results]


SYNC_THREADS = 8
"""Files flushed to disk at once by :meth:`FileChannel.settle`."""


def _fsync(target: tuple[int, Path]) -> tuple[int, str] | None:
    """Flush a message's file (or a folder) to disk: None, or the message and the error."""
    message_id, path = target
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return message_id, f"写入 {path} 失败：{exc}"
    return None


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_DATA_IMAGE = re.compile(r'src="data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)"')


def mail_id(message: OutgoingMessage, sender: str, part: str = "") -> str:
    """The ``Message-ID`` (or, with ``part``, an inline image's ``Content-ID``) of an outbox
    message: ``<duban-{id}.{fingerprint}{part}@{sender's domain}>``, the same in every process
    and on every re-send, so a receiving server or client can drop a re-sent copy. The
    fingerprint (12 hex digits of SHA-256 over the plan, id, recipient, subject and body) keeps
    two databases that reuse an id apart."""
    content = "\x1f".join(
        [message.plan_id, str(message.message_id), message.recipient, message.subject]
    )
    fingerprint = hashlib.sha256(f"{content}\x1f{message.body}".encode()).hexdigest()[:12]
    domain = sender.rpartition("@")[2].strip(" <>") if "@" in sender else ""
    return f"<duban-{message.message_id}.{fingerprint}{part}@{domain or 'localhost'}>"


def _mail(message: OutgoingMessage, sender: str, sender_name: str) -> EmailMessage:
    """The e-mail for a message: text, or text + HTML with its embedded images as inline
    parts (``cid:``; many mail clients block ``data:`` URIs), plus any attachments."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = message.address or ""
    mail["Subject"] = message.subject
    mail["Message-ID"] = mail_id(message, sender)
    mail.set_content(message.body)
    if message.html is not None:
        images: list[tuple[str, str, bytes]] = []

        def inline(match: re.Match[str]) -> str:
            cid = mail_id(message, sender, f".img{len(images)}")
            images.append((cid, match.group(1), base64.b64decode(match.group(2))))
            return f'src="cid:{cid[1:-1]}"'

        html = _DATA_IMAGE.sub(inline, message.html)
        mail.add_alternative(html, subtype="html")
        body = mail.get_payload()[1]  # type: ignore[index]
        assert isinstance(body, EmailMessage)
        for cid, subtype, data in images:
            body.add_related(data, maintype="image", subtype=subtype, cid=cid)
    for attachment in message.attachments:
        mime = (
            DOCX_MIME
            if attachment.suffix == ".docx"
            else mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
        )
        maintype, subtype = mime.split("/", 1)
        mail.add_attachment(
            attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment.name
        )
    return mail


class SmtpChannel:
    """Mail over SMTP: STARTTLS (port 587) or SSL (465) or plain (tests, local relays).

    One connection is kept for every message this channel sends (a delivery run's), checked
    with ``NOOP`` before each and opened afresh when the server has dropped it; :meth:`close`
    ends it. A message is never sent twice by the channel itself."""

    name = "smtp"

    def __init__(self) -> None:
        self._client: smtplib.SMTP | None = None
        self._server: tuple[object, ...] = ()

    def send(self, message: OutgoingMessage) -> None:
        s = get_settings()
        if not message.address:
            raise ChannelError(f"目录中没有 {message.recipient} 的电子邮件地址")
        if not s.smtp_host:
            raise ChannelError("没有设置 DUBAN_SMTP_HOST")
        mail = _mail(message, s.smtp_sender, s.smtp_sender_name)
        try:
            self._connected(s.smtp_host).send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise ChannelError(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc}") from exc

    def _connected(self, host: str) -> smtplib.SMTP:
        """The kept connection if it is to the server in the settings and still answers, else
        a new one (logged in when the settings name a user)."""
        s = get_settings()
        server = (host, s.smtp_port, s.smtp_security, s.smtp_user)
        if self._client is not None and self._server == server:
            try:
                if self._client.noop()[0] == 250:
                    return self._client
            except (OSError, smtplib.SMTPException):
                pass
        self.close()
        if s.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, s.smtp_port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, s.smtp_port, timeout=30)
        try:
            if s.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if s.smtp_user and s.smtp_password:
                client.login(s.smtp_user, s.smtp_password.get_secret_value())
        except BaseException:
            client.close()
            raise
        self._client, self._server = client, server
        return client

    def close(self) -> None:
        """End the kept connection, if any (a server that is gone is not an error here)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


class AppriseChannel:
    """IM group robots and other services by URL, through apprise: DingTalk (``dingtalk://``),
    WeCom (``wecombot://``), Feishu (``feishu://``), or any JSON webhook (``json://``)."""

    name = "webhook"

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls

    def send(self, message: OutgoingMessage) -> None:
        import apprise  # noqa: PLC0415 - heavy import, only when a webhook is configured

        client = apprise.Apprise()
        for url in self.urls:
            if not client.add(url):
                raise ChannelError(f"apprise 不认识这个通知地址：{url}")
        attach = [str(a) for a in message.attachments] or None
        if not client.notify(title=message.subject, body=message.body, attach=attach):
            raise ChannelError(f"推送到 {'、'.join(self.urls)} 失败")


class RunChannels:
    """The channels of one run, by the name a message records: one :class:`SmtpChannel` (one
    connection) for all of the run's mail and one deferred :class:`FileChannel`, whose files
    :meth:`settle` puts on disk; :meth:`close` or leaving the ``with`` ends the connection."""

    def __init__(self) -> None:
        self._smtp: SmtpChannel | None = None
        self._file: FileChannel | None = None

    def named(self, name: str, address: str | None) -> Channel:
        if name == "webhook" and address:
            return AppriseChannel(address.split())
        if name == "smtp":
            self._smtp = self._smtp or SmtpChannel()
            return self._smtp
        self._file = self._file or FileChannel(deferred=True)
        return self._file

    def settle(self, results: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
        """``results`` once what the run's channels wrote is durable
        (:meth:`FileChannel.settle`)."""
        return self._file.settle(results) if self._file is not None else results

    def close(self) -> None:
        if self._smtp is not None:
            self._smtp.close()

    def __enter__(self) -> RunChannels:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def channel_for(address: str | None, urls: list[str] | None = None) -> Channel:
    """The recipient's notification URLs if any (webhook), else ``DUBAN_CHANNEL``."""
    if urls:
        return AppriseChannel(urls)
    if get_settings().channel == "smtp" and address:
        return SmtpChannel()
    return FileChannel()
