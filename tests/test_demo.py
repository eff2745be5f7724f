"""The demo-data command: a believable city, every state present, and working accounts."""
from __future__ import annotations

import pyotp
import pytest

from incubator.accounts.models import Role, User
from incubator.accounts.passwords import check_password_policy, verify_password
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import Call, CallStatus
from incubator.demo import DEMO_ACCOUNTS, DatabaseNotEmpty, account_lines, load_demo_data
from incubator.orgs.models import CreditKind, CreditRecord, Organization, OrgType, Verification
from incubator.regions.models import District


@pytest.fixture()
def demo(db):
    accounts = load_demo_data()
    db.session.commit()
    return accounts


def test_city_and_thirty_organisations_in_every_state(db, demo):
    assert db.session.scalar(db.select(db.func.count()).select_from(District)) >= 7
    orgs = list(db.session.scalars(db.select(Organization)))
    assert len(orgs) == 30
    assert {o.status for o in orgs} == set(Verification)
    assert {o.org_type for o in orgs} == set(OrgType)
    kinds = {r.kind for r in db.session.scalars(db.select(CreditRecord))}
    assert kinds == set(CreditKind)


def test_one_account_per_role_and_each_logs_in(db, demo):
    users = {u.email: u for u in db.session.scalars(db.select(User))}
    assert {a.role for a in demo} == set(Role)
    for acct in demo:
        user = users[acct.login]
        assert verify_password(user.password_hash, acct.password), acct.login
        assert check_password_policy(acct.password, acct.role) == [], acct.login
        if user.needs_two_factor:
            assert user.totp_enabled and user.totp_secret == acct.totp_secret
            assert pyotp.TOTP(acct.totp_secret).now().isdigit()
        if acct.role == Role.APPLICANT:
            assert user.org is not None and user.is_org_admin


def test_calls_and_applications_in_every_state(db, demo):
    statuses = {c.status for c in db.session.scalars(db.select(Call))}
    assert statuses == set(CallStatus)
    app_statuses = {a.status for a in db.session.scalars(db.select(Application))}
    assert app_statuses == set(ApplicationStatus)


def test_output_lines_are_role_login_password_and_totp(demo):
    lines = account_lines(demo)
    assert len(lines) == len(DEMO_ACCOUNTS)
    for line, acct in zip(lines, DEMO_ACCOUNTS):
        parts = line.split("\t")
        assert parts[:3] == [acct.role.value, acct.login, acct.password]
        assert len(parts) == (4 if acct.totp_secret else 3)


def test_refuses_a_database_that_has_users(db, demo):
    with pytest.raises(DatabaseNotEmpty):
        load_demo_data()


def test_cli_prints_accounts(app, db):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0].split("\t")
    assert first[0] == "admin" and len(first) == 4
    again = app.test_cli_runner().invoke(args=["demo-data"])
    assert again.exit_code != 0 and "空数据库" in again.output
