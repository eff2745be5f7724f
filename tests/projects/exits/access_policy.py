"""Who may reach each 结项与退出 route (tests/test_access.py walks these).

The project belongs to org_a (district A). The tab: its organisation, district A and city staff, finance and
admins read it; everyone else gets 404 (the project's existence is not revealed; an id
too large to be a row is 404 before the login check, for anonymous users too). Closing and terminating:
staff of the district (city staff included; the second of them gets 409, not 403). Refund receipts: finance
only (documented choice: finance confirms money received). The staff list: staff, finance and admins.
"""
from __future__ import annotations

import io

from tests.access import DENY, Rule

VIEW = {"applicant_a": "OK", "staff_a": "OK", "staff_city": "OK", "finance": "OK", "admin": "OK"}
MANAGE = {"staff_a": "OK", "staff_city": "OK"}
LIST = {"staff_a": "OK", "staff_b": "OK", "staff_city": "OK", "finance": "OK", "admin": "OK"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _in_progress(w):
    from tests.projects.exits.helpers import in_progress, verified_expense

    w.project, _, _ = in_progress(org=w.org_a, by=w.staff_a, finance=w.finance)
    verified_expense(w.project, "30000.00")


def _ready(w):
    from tests.projects.exits.helpers import fully_paid

    w.project, _, _ = fully_paid(org=w.org_a, by=w.staff_a, finance=w.finance)


def _terminated(w):
    from decimal import Decimal

    from incubator.db import today_local
    from incubator.projects.exits import services
    from tests.projects.exits.helpers import stored_receipt

    _in_progress(w)
    services.terminate(w.project, reason_kind="breach", detail="违约", by=w.staff_a)
    w.receipt = services.record_refund(services.settlement_of(w.project), amount=Decimal("1.00"),
                                       received_on=today_local(), voucher_no="TK-0", file=stored_receipt(w.finance),
                                       by=w.finance)


def _refund(w):
    from incubator.db import today_local

    return {"amount": "100.00", "received_on": today_local().isoformat(), "voucher_no": "TK-1",
            "file": (io.BytesIO(PDF), "回单.pdf")}


def _terminate(w):
    return {"reason_kind": "breach", "detail": "擅自转包", "debar": "default", "debar_years": "3", "confirm": "y"}


RULES = [
    Rule("exits.project_exit", "GET", lambda w: f"/projects/{w.project.id}/exit", allow=VIEW, setup=_in_progress),
    Rule("exits.project_exit", "GET", lambda w: f"/projects/{w.project.id}/exit", allow=VIEW, setup=_terminated),
    Rule("exits.project_exit", "GET", lambda w: "/projects/99999999999/exit", allow={}, others=DENY),
    Rule("exits.close", "POST", lambda w: f"/projects/{w.project.id}/exit/close", allow=MANAGE, setup=_ready,
         data=lambda w: {"confirm_close": "y"}),
    Rule("exits.close", "POST", lambda w: "/projects/0/exit/close", allow={}, data=lambda w: {"confirm_close": "y"}),
    Rule("exits.terminate", "POST", lambda w: f"/projects/{w.project.id}/exit/terminate", allow=MANAGE,
         setup=_in_progress, data=_terminate),
    Rule("exits.terminate", "POST", lambda w: "/projects/99999999999/exit/terminate", allow={}, others=DENY,
         data=_terminate),
    Rule("exits.record_refund", "POST", lambda w: f"/projects/{w.project.id}/exit/refunds", allow={"finance": "OK"},
         setup=_terminated, data=_refund),
    Rule("exits.receipt_file", "GET", lambda w: f"/projects/{w.project.id}/exit/refunds/{w.receipt.id}/file",
         allow=VIEW, setup=_terminated),
    Rule("exits.receipt_file", "GET", lambda w: f"/projects/{w.project.id}/exit/refunds/99999999999/file",
         allow={}, others=DENY, setup=_terminated),
    Rule("exits.staff_index", "GET", lambda w: "/staff/exits", allow=LIST, setup=_terminated),
    Rule("exits.staff_index", "GET", lambda w: "/staff/exits?status=all&q=%27%20OR%201%3D1--&page=99999999999",
         allow=LIST),
]
