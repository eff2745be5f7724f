"""Access policy of the accounts routes (login, second factor, reset, security page, members)."""
from tests.access import LOGIN, OK, Rule

SIGNED_IN = {"anonymous": LOGIN}  # with others=OK: every logged-in role gets through
TWO_FACTOR_ROLES = {r: OK for r in ("staff_a", "staff_b", "staff_city", "finance", "admin")}


def _reset_token(w):
    """A live reset link for a user outside the World (GET and a refused POST do not spend it)."""
    from datetime import timedelta

    from incubator.accounts import services
    from incubator.accounts.models import TokenPurpose
    from tests.factories import make_user

    w.reset_token = services.issue_token(make_user(), purpose=TokenPurpose.RESET, lifetime=timedelta(minutes=15))


def _member_of_a(w):
    from incubator.accounts.models import Role
    from tests.factories import make_user

    w.member_a = make_user(Role.APPLICANT, org=w.org_a)


RULES = [
    Rule("accounts.login", "GET", lambda w: "/login", public=True),
    Rule("accounts.login", "POST", lambda w: "/login", public=True,
         data=lambda w: {"identifier": "nobody@example.cn", "password": "wrong password"}),
    Rule("accounts.logout", "POST", lambda w: "/logout", public=True),
    # Second step of login: anonymous without a password step → back to /login; logged in → dashboard.
    Rule("accounts.two_factor", "GET", lambda w: "/login/verify", others=OK, allow=SIGNED_IN),
    Rule("accounts.two_factor", "POST", lambda w: "/login/verify", others=OK, allow=SIGNED_IN,
         data=lambda w: {"code": "123456"}),
    Rule("accounts.two_factor_setup", "GET", lambda w: "/login/setup-2fa", others=OK, allow=SIGNED_IN),
    Rule("accounts.two_factor_setup", "POST", lambda w: "/login/setup-2fa", others=OK, allow=SIGNED_IN,
         data=lambda w: {"code": "123456"}),
    Rule("accounts.forgot_password", "GET", lambda w: "/password/forgot", public=True),
    Rule("accounts.forgot_password", "POST", lambda w: "/password/forgot", public=True,
         data=lambda w: {"email": "nobody@example.cn"}),
    Rule("accounts.reset_password", "GET", lambda w: f"/password/reset/{w.reset_token}", public=True,
         setup=_reset_token),
    Rule("accounts.reset_password", "POST", lambda w: f"/password/reset/{w.reset_token}", public=True,
         setup=_reset_token, data=lambda w: {"password": "short", "confirm": "short"}),
    Rule("accounts.security", "GET", lambda w: "/account/security", others=OK, allow=SIGNED_IN),
    Rule("accounts.change_password", "POST", lambda w: "/account/security/password", others=OK, allow=SIGNED_IN,
         data=lambda w: {"current_password": "wrong password", "password": "x", "confirm": "x"}),
    Rule("accounts.change_email", "POST", lambda w: "/account/security/email", others=OK, allow=SIGNED_IN,
         data=lambda w: {"current_password": "wrong password", "email": "new@example.cn"}),
    # Recovery codes exist only for the two-factor roles (404 for the others).
    Rule("accounts.regenerate_recovery_codes", "POST", lambda w: "/account/security/recovery-codes",
         allow=TWO_FACTOR_ROLES, data=lambda w: {"current_password": "wrong password"}),
    # Members: an applicant sees their own organisation; only its org admin invites and removes.
    Rule("accounts.members", "GET", lambda w: "/org/members", allow={"applicant_a": OK, "applicant_b": OK}),
    Rule("accounts.invite_member", "POST", lambda w: "/org/members/invite",
         allow={"applicant_a": OK, "applicant_b": OK}, data=lambda w: {"name": "", "email": "bad"}),
    Rule("accounts.remove_member", "POST", lambda w: f"/org/members/{w.member_a.id}/remove",
         allow={"applicant_a": OK}, setup=_member_of_a),
]
