"""Factories of the contract tests: a scheduled project, scans as real file bytes, a contract at each step."""
from __future__ import annotations

import io
from datetime import date

from werkzeug.datastructures import FileStorage

from incubator.projects.contracts import services
from tests.projects.helpers import make_member, scheduled, staff_for  # noqa: F401

# The smallest real PDF filetype recognises (magic bytes %PDF-).
PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def upload(data: bytes = PDF_BYTES, name: str = "合同签章件.pdf", content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


def contract_world(amount: str = "100000.00", **kw):
    """A scheduled (50/30/20) project, its district staff and an organisation member."""
    project, staff = scheduled(amount, **kw)
    member = make_member(project.org)
    return project, staff, member


def generated(project, staff):
    """generate() and render its PDF now (what the queued job does)."""
    c = services.generate(project, by=staff)
    services.attach_pdf(c)
    return c


def in_force(project, staff, member, *, signed_on: date | None = None):
    from incubator.db import today_local

    c = generated(project, staff)
    services.upload_org_signed(c, upload(), by=member)
    services.countersign(c, upload(name="双方盖章.pdf"), by=staff, signed_on=signed_on or today_local())
    return c
