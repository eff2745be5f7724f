"""Demo data of contracts: ``seed(project, *, staff, org_user, **_)`` brings a demo project's contract in force
and published, through the real services: the default templates exist, version 1 is generated (its PDF
rendered at once), the organisation uploads its "scan" (real file bytes: the generated PDF itself), staff
countersign it today and publish the summary. The project's 「签约后」 tranches become requestable.

Needs a tranche schedule: when the project has none, the usual 50/30/20 (签约后 / 中期评估合格后 /
结项验收后) is set first. Returns the contract; a project whose contract is already in force is left as it
is. The caller commits.
"""
from __future__ import annotations

import io
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from incubator.core.files import read_bytes
from incubator.db import today_local
from incubator.projects.contracts import services
from incubator.projects.contracts.models import Contract, ContractStatus
from incubator.projects.models import ProjectKind, TrancheCondition

SHARES = [Decimal(50), Decimal(30), Decimal(20)]
CONDITIONS = [TrancheCondition.ON_SIGNING, TrancheCondition.ON_MIDTERM_PASS, TrancheCondition.ON_FINAL_ACCEPTANCE]


def seed_templates(by=None) -> None:
    for kind in ProjectKind:
        services.default_template(kind, by=by)


def seed(project, *, staff, org_user, publish: bool = True, **_) -> Contract:
    from incubator.projects import services as project_services

    seed_templates(by=staff)
    done = services.contract_in_force(project)
    if done is not None:
        return done
    if not project.tranches:
        project_services.set_tranche_schedule(project, SHARES, CONDITIONS, by=staff)
    contract = services.current_contract(project) or services.generate(project, by=staff)
    if contract.status == ContractStatus.GENERATED:
        if contract.pdf_file is None:
            services.attach_pdf(contract, by=staff)
        scan = FileStorage(stream=io.BytesIO(read_bytes(contract.pdf_file)), filename=f"{contract.number}-签章件.pdf",
                           content_type="application/pdf")
        services.upload_org_signed(contract, scan, by=org_user)
    if contract.status == ContractStatus.ORG_SIGNED:
        copy = FileStorage(stream=io.BytesIO(read_bytes(contract.org_signed_file)),
                           filename=f"{contract.number}-双方签章.pdf", content_type="application/pdf")
        services.countersign(contract, copy, by=staff, signed_on=today_local())
    if publish and contract.published_at is None:
        services.publish(contract, by=staff)
    return contract
