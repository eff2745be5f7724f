from __future__ import annotations

import pytest


class Outbox(list):
    def to(self, address: str) -> list[tuple[str, str, str]]:
        return [m for m in self if m[0] == address]

    def last(self, address: str) -> tuple[str, str, str]:
        mails = self.to(address)
        assert mails, f"no mail to {address}; sent: {[m[0] for m in self]}"
        return mails[-1]


@pytest.fixture()
def outbox(monkeypatch):
    """Mail queued by the accounts services, captured instead of stored and delivered."""
    from incubator.core import mail

    box = Outbox()
    monkeypatch.setattr(mail, "queue_mail", lambda to, subject, body: box.append((to, subject, body)))
    return box
