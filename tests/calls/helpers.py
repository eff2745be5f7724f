"""Factories of the calls domain."""
from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from incubator.calls.models import Call, CallKind
from incubator.db import to_local, utcnow
from incubator.extensions import db

_seq = itertools.count(1)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_call(*, published: bool = True, now: datetime | None = None, **kw) -> Call:
    """An open, published city call by default."""
    now = now or utcnow()
    n = next(_seq)
    defaults = dict(
        kind=CallKind.MICRO_VENTURE,
        year=2026,
        title=f"2026年洛阳市公益微创投测试通知{n}",
        notice="第一段。\n第二段。",
        district_id=None,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        published_at=(now - timedelta(days=2)) if published else None,
        fund_pool=Decimal("1000000.00"),
        grant_min=Decimal("10000.00"),
        grant_max=Decimal("100000.00"),
    )
    district = kw.pop("district", None)
    if district is not None:
        defaults["district_id"] = district.id
    defaults.update(kw)
    call = Call(**defaults)
    db.session.add(call)
    db.session.flush()
    return call


def pdf_upload(name: str = "申报指南.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF_BYTES), filename=name, content_type="application/pdf")


def local_input(*, days: int = 0, hours: int = 0) -> str:
    """A datetime-local value (Beijing time) relative to now."""
    return (to_local(utcnow()) + timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M")


def valid_form(**overrides) -> dict:
    """A complete, valid POST for the call editor."""
    data = {
        "kind": "micro_venture",
        "year": "2026",
        "title": "2026年洛阳市公益微创投大赛项目申报通知",
        "notice": "各县区民政局、各社会组织：\r\n为培育发展社会组织……",
        "scope": "city",
        "opens_at": local_input(days=1),
        "closes_at": local_input(days=30),
        "fund_pool": "2000000.00",
        "grant_min": "30000",
        "grant_max": "100000",
        "max_grant_share": "60",
        "max_applications_per_org": "2",
        "min_years_since_founding": "1",
        "require_annual_report_pass": "y",
        "themes": ["elderly", "youth"],
        "caps-0-category": "personnel",
        "caps-0-max_share": "30",
        "caps-1-category": "management",
        "caps-1-max_share": "10",
        "fields-0-label": "项目实施社区",
        "fields-0-kind": "text",
        "fields-0-required": "y",
        "fields-1-label": "服务对象类别",
        "fields-1-kind": "choice",
        "fields-1-choices": "老年人\r\n儿童\r\n残疾人",
        "attachment_types-0-name": "登记证书副本",
        "attachment_types-0-required": "y",
        "attachment_types-0-allowed_extensions": ["pdf", "jpg"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
