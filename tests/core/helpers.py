"""Sample files for upload tests: real PDF, PNG, JPEG, DOCX, XLSX bytes and hostile variants."""
from __future__ import annotations

import io
import zipfile

from werkzeug.datastructures import FileStorage

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

CONTENT_TYPES_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def png(size=(4, 3)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        zf.writestr("_rels/.rels", b"<Relationships/>")
        zf.writestr("word/document.xml", "<w:document><w:body><w:p>申请书</w:p></w:body></w:document>".encode())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "预算"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bomb_docx(megabytes: int = 20) -> bytes:
    """A .docx-looking zip with a member of `megabytes` MB of zeros (ratio ~1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        zf.writestr("word/document.xml", b"<w:document/>")
        with zf.open("word/media/image1.bin", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return out.getvalue()
