"""Background work of contracts: rendering a contract's PDF from its snapshot."""
from __future__ import annotations

from incubator.extensions import db


def render_contract_job(job, contract_id: int, content_sha256: str) -> None:
    """Render and attach the PDF of ``contract_id``; safe to run twice, and a no-op when the contract was
    regenerated since (its snapshot hash changed: the newer job renders it) or already has its PDF."""
    from incubator.core.jobs import attach_result, report_progress
    from incubator.projects.contracts.models import Contract
    from incubator.projects.contracts.services import attach_pdf

    contract = db.session.get(Contract, contract_id)
    if contract is None:
        raise LookupError(f"合同 #{contract_id} 不存在")
    if contract.content_sha256 != content_sha256 or contract.pdf_file_id is not None:
        if contract.pdf_file_id is not None and contract.content_sha256 == content_sha256:
            attach_result(job, contract.pdf_file)
        return
    report_progress(job, 30, "排版生成合同PDF")
    stored = attach_pdf(contract, by=getattr(job, "user", None))
    attach_result(job, stored)
    report_progress(job, 100, "已完成")
    db.session.flush()
