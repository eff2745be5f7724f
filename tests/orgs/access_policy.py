"""Who may use each route of the registry (tests/test_access.py requests every rule as every role)."""
from datetime import date

from tests.access import OK, Rule

STAFF_OF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}
ALL_STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
APPLICANTS = {"applicant_a": OK, "applicant_b": OK}


def _pending(w):
    from incubator.orgs.models import Verification

    w.org_a.status = Verification.PENDING


def _credit(w):
    from incubator.orgs.models import CreditKind, CreditRecord

    w.record = CreditRecord(org=w.org_a, kind=CreditKind.ABNORMAL_LIST, reason="未按时报送年报", source="洛民〔2026〕1号",
                            start_on=date(2025, 1, 6), end_on=date(2025, 7, 6))
    from incubator.extensions import db

    db.session.add(w.record)
    db.session.flush()


def _contact(w):
    return {"version": "", "address": "洛阳市测试路2号", "contact_name": "王五", "contact_phone": "13903790002",
            "fields": ["elderly"], "staff_count": "3", "social_worker_count": "1", "has_party_org": "0"}


RULES = [
    Rule("orgs.register", "GET", lambda w: "/orgs/register", public=True),
    Rule("orgs.register", "POST", lambda w: "/orgs/register", public=True, data=lambda w: {"name": "x"}),
    Rule("orgs.region_options", "GET", lambda w: f"/orgs/regions.json?district={w.district_a.id}", public=True),
    Rule("orgs.check_uscc", "GET", lambda w: "/orgs/check-uscc?code=52440106MJL001238R", public=True),
    Rule("orgs.index", "GET", lambda w: "/orgs/", allow=ALL_STAFF),
    Rule("orgs.export", "GET", lambda w: "/orgs/export", allow=ALL_STAFF),
    Rule("orgs.export_job", "POST", lambda w: "/orgs/export", allow=ALL_STAFF,
         data=lambda w: {"district": str(w.district_b.id), "status": "verified"}),
    Rule("orgs.pending", "GET", lambda w: "/orgs/pending", allow=ALL_STAFF),
    Rule("orgs.detail", "GET", lambda w: f"/orgs/{w.org_a.id}", allow={**STAFF_OF_A, "applicant_a": OK}),
    Rule("orgs.verify", "POST", lambda w: f"/orgs/{w.org_a.id}/verify", allow=STAFF_OF_A, setup=_pending),
    Rule("orgs.reject", "POST", lambda w: f"/orgs/{w.org_a.id}/reject", allow=STAFF_OF_A, setup=_pending,
         data=lambda w: {"reason": "证书照片不清晰"}),
    Rule("orgs.add_annual_report", "POST", lambda w: f"/orgs/{w.org_a.id}/annual-reports", allow=STAFF_OF_A,
         data=lambda w: {"year": "2024", "result": "pass"}),
    Rule("orgs.add_rating", "POST", lambda w: f"/orgs/{w.org_a.id}/ratings", allow=STAFF_OF_A,
         data=lambda w: {"grade": "4", "awarded_on": "2024-06-01"}),
    Rule("orgs.add_credit", "POST", lambda w: f"/orgs/{w.org_a.id}/credit", allow=STAFF_OF_A,
         data=lambda w: {"kind": "debarment", "reason": "违约", "source": "洛民〔2026〕2号", "start_on": "2025-01-01"}),
    Rule("orgs.correct_credit", "POST", lambda w: f"/orgs/{w.org_a.id}/credit/{w.record.id}/correct", allow=STAFF_OF_A,
         setup=_credit, data=lambda w: {"corrected_on": "2025-03-03"}),
    Rule("orgs.remove_credit", "POST", lambda w: f"/orgs/{w.org_a.id}/credit/{w.record.id}/remove", allow=STAFF_OF_A,
         setup=_credit, data=lambda w: {"removed_on": "2025-03-10", "note": "整改完成"}),
    Rule("orgs.profile_pdf", "POST", lambda w: f"/orgs/{w.org_a.id}/profile-pdf", allow={**STAFF_OF_A, "applicant_a": OK}),
    Rule("orgs.mine", "GET", lambda w: "/orgs/mine", allow=APPLICANTS),
    Rule("orgs.edit_mine", "GET", lambda w: "/orgs/mine/edit", allow=APPLICANTS),
    Rule("orgs.edit_mine", "POST", lambda w: "/orgs/mine/edit", allow=APPLICANTS, data=_contact),
    Rule("orgs.resubmit", "GET", lambda w: "/orgs/mine/resubmit", allow=APPLICANTS),
    Rule("orgs.resubmit", "POST", lambda w: "/orgs/mine/resubmit", allow=APPLICANTS, data=lambda w: {"name": "x"}),
]
