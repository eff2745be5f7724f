"""Access policy of the system administration routes: role admin only."""
from tests.access import OK, Rule

ADMIN = {"admin": OK}

RULES = [
    Rule("admin.users", "GET", lambda w: "/admin/users", allow=ADMIN),
    Rule("admin.create_user", "GET", lambda w: "/admin/users/new", allow=ADMIN),
    Rule("admin.create_user", "POST", lambda w: "/admin/users/new", allow=ADMIN, data=lambda w: {"name": ""}),
    Rule("admin.edit_user", "GET", lambda w: f"/admin/users/{w.staff_a.id}", allow=ADMIN),
    Rule("admin.edit_user", "POST", lambda w: f"/admin/users/{w.staff_a.id}", allow=ADMIN,
         data=lambda w: {"role": "staff", "district_id": str(w.district_b.id)}),
    Rule("admin.disable_user", "POST", lambda w: f"/admin/users/{w.evaluator.id}/disable", allow=ADMIN),
    Rule("admin.enable_user", "POST", lambda w: f"/admin/users/{w.evaluator.id}/enable", allow=ADMIN),
    Rule("admin.reset_two_factor", "POST", lambda w: f"/admin/users/{w.finance.id}/reset-2fa", allow=ADMIN),
    Rule("admin.send_password_link", "POST", lambda w: f"/admin/users/{w.expert_unassigned.id}/send-password-link",
         allow=ADMIN),
    Rule("admin.audit_log", "GET", lambda w: "/admin/audit", allow=ADMIN),
]
