"""Outgoing mail: a row per message, delivered by a background job after the transaction commits.

``queue_mail(to, subject, body)`` adds an ``OutgoingMail`` row and queues ``deliver_mail(id)``
(with RQ's Retry). Delivery is idempotent: the row is claimed with an atomic UPDATE, so running
the job twice sends one mail. Transport by ``MAIL_TRANSPORT``:

* ``outbox`` (development and test): nothing leaves the machine; the message is marked delivered
  and shown on the developer outbox page (``system.outbox``).
* ``smtp``: ``SMTP_URL`` such as ``smtp://user:pass@host:587?starttls=1`` or ``smtps://host:465``.
"""
from __future__ import annotations

import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import DateTime, Integer, String, Text, or_, update
from sqlalchemy.orm import Mapped, mapped_column

from incubator.core.enums import LabeledEnum
from incubator.core.jobs import enqueue_after_commit
from incubator.db import Base, enum_type, utcnow
from incubator.extensions import db

# A claim older than this is considered abandoned (the worker died while sending).
STALE_CLAIM = timedelta(minutes=10)


class MailStatus(LabeledEnum):
    QUEUED = ("queued", "待发送")
    SENDING = ("sending", "发送中")
    SENT = ("sent", "已发送")
    FAILED = ("failed", "发送失败")


MAIL_TONES = {"queued": "secondary", "sending": "primary", "sent": "success", "failed": "danger"}


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.QUEUED, index=True)
    transport: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class InvalidMail(ValueError):
    pass


def queue_mail(to: str, subject: str, body: str) -> OutgoingMail:
    """Add a message and queue its delivery for after the commit (the caller commits)."""
    to = (to or "").strip()
    if not to or "@" not in to or any(c in to for c in "\r\n,;<>\x00 "):
        raise InvalidMail("收件人邮箱地址无效")
    # Headers never carry line breaks (header injection); the subject is one line.
    subject = " ".join((subject or "").replace("\x00", "").split())[:200]
    mail = OutgoingMail(to=to, subject=subject, body=(body or "").replace("\x00", ""), status=MailStatus.QUEUED, attempts=0)
    db.session.add(mail)
    db.session.flush()
    enqueue_after_commit(
        deliver_mail, mail.id, retries=int(current_app.config.get("MAIL_RETRIES", 3)), title="发送邮件", kind="mail"
    )
    return mail


def deliver_mail(mail_id: int) -> None:
    """The job: send one message once. Safe to run twice or concurrently."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            or_(
                OutgoingMail.status.in_([MailStatus.QUEUED, MailStatus.FAILED]),
                (OutgoingMail.status == MailStatus.SENDING) & (OutgoingMail.claimed_at < now - STALE_CLAIM),
            ),
        )
        .values(status=MailStatus.SENDING, claimed_at=now, attempts=OutgoingMail.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return  # sent already, being sent by someone else, or gone
    mail = db.session.get(OutgoingMail, mail_id)
    transport = current_app.config.get("MAIL_TRANSPORT", "outbox")
    try:
        if transport == "smtp":
            _send_smtp(mail)
        elif transport != "outbox":
            raise RuntimeError(f"unknown MAIL_TRANSPORT {transport!r}")
    except Exception as exc:
        db.session.rollback()
        mail = db.session.get(OutgoingMail, mail_id)
        mail.status = MailStatus.FAILED
        mail.error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    mail.status = MailStatus.SENT
    mail.transport = transport
    mail.sent_at = utcnow()
    mail.error = None
    db.session.commit()


def build_message(mail: OutgoingMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2] or None)
    msg.set_content(mail.body)
    return msg


def _send_smtp(mail: OutgoingMail) -> None:
    url = current_app.config.get("SMTP_URL")
    if not url:
        raise RuntimeError("MAIL_TRANSPORT=smtp needs SMTP_URL")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host, port = parts.hostname or "localhost", parts.port
    timeout = 20
    if parts.scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port or 25, timeout=timeout)
    with server:
        if parts.scheme == "smtp" and query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            server.starttls(context=ssl.create_default_context())
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(build_message(mail))
