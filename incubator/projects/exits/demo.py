"""Demo data of the exits area: ``seed_failed(project, *, staff, finance, partial_refund=None)``.

A demo project that failed its mid-term evaluation is terminated (评估不合格) through the real services: the
mid-term failure is recorded if it is not yet (the next tranche stops), the project is terminated with the
default 3-year debarment (a 禁入期 credit record that bars the organisation's next application), and the
settlement leaves a refund due (paid minus verified spending). With ``partial_refund`` (yuan), finance has
already recorded part of it, with a generated bank-receipt PDF, so the tab shows a receipt and an amount
still outstanding. Safe to call twice: a project already terminated is returned as it is.

The caller (incubator.demo) commits. ``project`` should be in progress (signed, first tranche paid) with no
payment under way.
"""
from __future__ import annotations

from decimal import Decimal

from incubator.db import today_local
from incubator.projects.exits import services
from incubator.projects.exits.models import Termination
from incubator.projects.models import ProjectStatus

DETAIL = ("中期评估结论为不合格：服务数量仅完成合同约定的38%，"
          "经书面督促整改后仍未达到要求，且部分支出无合规票据。依据服务合同第九条终止合同。")


def _receipt_pdf(by):
    """A small generated PDF standing in for the bank's receipt (回单)."""
    from incubator.core.files import save_generated

    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return save_generated(body, filename="退款回单.pdf", content_type="application/pdf", by=by)


def seed_failed(project, *, staff, finance, partial_refund: Decimal | None = None) -> Termination:
    from incubator.projects import services as project_services

    existing = services.termination_of(project)
    if existing is not None:
        return existing
    if project.status == ProjectStatus.TERMINATED:
        raise services.ExitConflict("项目已终止")
    if project.midterm_failed_on is None and project.midterm_passed_on is None:
        project_services.record_midterm_failed(project, by=staff)
    termination = services.terminate(project, reason_kind="failed_evaluation", detail=DETAIL, by=staff)
    settlement = services.settlement_of(project)
    if partial_refund is not None and settlement.outstanding > 0:
        amount = min(Decimal(partial_refund), settlement.outstanding)
        if amount > 0:
            services.record_refund(settlement, amount=amount, received_on=today_local(),
                                   voucher_no=f"TK-{project.number}-1", file=_receipt_pdf(finance), by=finance)
    return termination


__all__ = ["seed_failed"]
