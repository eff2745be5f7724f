"""Mail: queued after commit, delivered once, outbox transport, SMTP transport, header safety."""
from __future__ import annotations

import pytest

from incubator.core import mail as mail_mod
from incubator.core.jobs import Job, JobStatus
from incubator.core.mail import InvalidMail, MailStatus, OutgoingMail, deliver_mail, queue_mail


@pytest.fixture()
def smtp_calls(app, monkeypatch):
    calls = []
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://mailer:secret@127.0.0.1:2525")
    monkeypatch.setattr(mail_mod, "_send_smtp", lambda m: calls.append(m.id))
    return calls


def test_queue_mail_delivers_into_the_outbox_after_commit(db, run_jobs):
    m = queue_mail("user@example.cn", "重置密码", "请点击 https://example.cn/reset/abc 重置密码。")
    assert m.status == MailStatus.QUEUED
    job = db.session.scalar(db.select(Job).where(Job.kind == "mail"))
    assert job.args == [m.id] and job.retries >= 1 and not job.passes_job
    run_jobs()
    m = db.session.get(OutgoingMail, m.id)
    assert m.status == MailStatus.SENT and m.transport == "outbox" and m.sent_at and m.attempts == 1


def test_rolled_back_mail_is_never_sent(db, run_jobs, smtp_calls):
    queue_mail("user@example.cn", "主题", "正文")
    db.session.rollback()
    run_jobs()
    assert smtp_calls == []
    assert db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail)) == 0


def test_delivering_twice_sends_one_mail(db, run_jobs, smtp_calls):
    m = queue_mail("user@example.cn", "主题", "正文")
    db.session.commit()
    deliver_mail(m.id)
    deliver_mail(m.id)
    run_jobs()  # and the queued job itself
    assert smtp_calls == [m.id]
    assert db.session.get(OutgoingMail, m.id).attempts == 1


def test_smtp_failure_is_retried_then_recorded(app, db, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "MAIL_RETRIES", 1)
    attempts = []

    def broken(m):
        attempts.append(m.id)
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(mail_mod, "_send_smtp", broken)
    m = queue_mail("user@example.cn", "主题", "正文")
    run_jobs()
    m = db.session.get(OutgoingMail, m.id)
    assert len(attempts) == 2  # first try + one RQ retry
    assert m.status == MailStatus.FAILED and "smtp down" in m.error and m.attempts == 2
    assert db.session.scalar(db.select(Job.status).where(Job.kind == "mail")) == JobStatus.FAILED


def test_a_stale_sending_claim_is_taken_over(db, smtp_calls):
    from datetime import timedelta

    from incubator.db import utcnow

    m = queue_mail("user@example.cn", "主题", "正文")
    m.status = MailStatus.SENDING
    m.claimed_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    deliver_mail(m.id)
    assert smtp_calls == []  # someone may still be sending it
    m.claimed_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    deliver_mail(m.id)
    assert smtp_calls == [m.id]


@pytest.mark.parametrize("to", ["", "not-an-address", "a@b.cn\r\nBcc: all@evil.com", "a@b.cn, c@d.cn", "<a@b.cn>"])
def test_bad_recipients_are_refused(db, to):
    with pytest.raises(InvalidMail):
        queue_mail(to, "主题", "正文")


def test_subject_is_one_line(app, db):
    m = queue_mail("user@example.cn", "主题\r\nBcc: all@evil.com", "正文")
    assert m.subject == "主题 Bcc: all@evil.com"
    msg = mail_mod.build_message(m)
    assert msg["Subject"] == "主题 Bcc: all@evil.com" and msg["Bcc"] is None
    assert msg["From"] == app.config["MAIL_FROM"] and "正文" in msg.get_content()


def test_smtp_transport_talks_smtp(app, db, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def starttls(self, context=None):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, msg):
            sent.append(("send", msg["To"], msg["Subject"]))

    monkeypatch.setattr(mail_mod.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://mailer:p%40ss@smtp.example.cn:587?starttls=1")
    m = queue_mail("user@example.cn", "通知", "正文")
    db.session.commit()
    deliver_mail(m.id)
    assert sent == [("connect", "smtp.example.cn", 587), ("starttls",), ("login", "mailer", "p@ss"),
                    ("send", "user@example.cn", "通知")]
    assert db.session.get(OutgoingMail, m.id).transport == "smtp"


def test_redis_down_mail_waits_silently_and_goes_out_later(app, db, run_jobs, monkeypatch):
    from flask import get_flashed_messages

    from incubator.core import jobs

    fake = jobs.get_redis()
    app.extensions.pop("incubator_redis")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    with app.test_request_context("/forgot-password"):
        m = queue_mail("user@example.cn", "重置密码", "链接")
        db.session.commit()
        # No notice: a reset page must answer the same for known and unknown addresses.
        assert get_flashed_messages() == []
    assert db.session.get(OutgoingMail, m.id).status == MailStatus.QUEUED
    app.extensions["incubator_redis"] = fake
    assert jobs.requeue_waiting() == 1
    run_jobs()
    assert db.session.get(OutgoingMail, m.id).status == MailStatus.SENT
