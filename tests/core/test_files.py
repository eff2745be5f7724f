"""Uploads (SECURITY.md, bad inputs 7 and 8): every hostile name and file is refused or made inert,
and a refused upload stores nothing."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.files import (
    StoredFile,
    UploadRejected,
    read_bytes,
    sanitize_filename,
    save_generated,
    save_upload,
    send_stored,
)
from incubator.core.storage import LocalStorage, StorageError, get_storage
from tests.core.helpers import PDF, docx, jpeg, png, upload, xlsx, zip_bomb_docx
from tests.factories import make_user

DOCS = {"pdf", "docx", "xlsx", "jpg", "png"}


def stored_paths(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture()
def user(db):
    return make_user(Role.APPLICANT)


@pytest.fixture()
def no_files_stored(app, db):
    """Asserts that the test stored no bytes and no StoredFile row."""
    before = set(stored_paths(app))
    yield
    assert set(stored_paths(app)) == before
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFile)) == 0


# --- accepted files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,data,content_type",
    [
        ("申请书.pdf", PDF, "application/pdf"),
        ("照片.PNG", png(), "image/png"),
        ("照片.jpg", jpeg(), "image/jpeg"),
        ("实施方案.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("预算表.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_good_files_are_stored_with_hash_and_audit(app, db, user, name, data, content_type):
    import hashlib

    sf = save_upload(upload(data, name), allowed=DOCS, by=user)
    db.session.commit()
    assert sf.id and sf.original_name == name.rsplit(".", 1)[0] + "." + name.rsplit(".", 1)[1].lower()
    assert sf.content_type == content_type
    assert sf.size == len(data)
    assert sf.sha256 == hashlib.sha256(data).hexdigest()
    assert sf.uploaded_by_id == user.id
    assert read_bytes(sf) == data
    # Stored under a generated key, outside static/, never under the user's name.
    path = Path(app.config["UPLOAD_DIR"]) / sf.storage_key
    assert path.is_file() and name not in str(path)
    assert Path(app.static_folder) not in path.resolve().parents
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "file.upload"))
    assert row.object_id == sf.id and row.actor_id == user.id and row.after["sha256"] == sf.sha256


def test_the_same_name_twice_gives_two_files(db, user):
    a = save_upload(upload(PDF, "a.pdf"), allowed={"pdf"}, by=user)
    b = save_upload(upload(PDF + b"\n", "a.pdf"), allowed={"pdf"}, by=user)
    assert a.storage_key != b.storage_key
    assert read_bytes(a) == PDF


# --- names (bad input 7) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
        ("x.php\x00.pdf", "x.php.pdf"),
        ("合同\u202egpj.pdf", "合同gpj.pdf"),
        ("  申请书\r\n.pdf ", "申请书.pdf"),
        ("a\u200bb\ufeff.pdf", "ab.pdf"),
        ("...", ""),
        ("", ""),
        (".pdf", "pdf"),
    ],
)
def test_sanitize_filename(raw, expected):
    assert sanitize_filename(raw) == expected


def test_long_names_are_cut_but_keep_their_extension(db, user):
    sf = save_upload(upload(PDF, "申" * 300 + ".pdf"), allowed={"pdf"}, by=user)
    assert len(sf.original_name) <= 120
    assert sf.original_name.endswith(".pdf") and sf.original_name.startswith("申申")


def test_path_traversal_name_is_only_a_display_name(app, db, user):
    sf = save_upload(upload(PDF, "../../etc/passwd.pdf"), allowed={"pdf"}, by=user)
    assert sf.original_name == "passwd.pdf"
    assert ".." not in sf.storage_key and "/" in sf.storage_key
    assert (Path(app.config["UPLOAD_DIR"]) / sf.storage_key).resolve().is_relative_to(Path(app.config["UPLOAD_DIR"]).resolve())


def test_nul_and_rtl_characters_never_reach_the_stored_name(db, user):
    sf = save_upload(upload(PDF, "合同\u202eexe.pdf"), allowed={"pdf"}, by=user)
    assert "\u202e" not in sf.original_name
    sf2 = save_upload(upload(PDF, "x.php\x00.pdf"), allowed={"pdf"}, by=user)
    assert "\x00" not in sf2.original_name


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", "不支持的文件类型"),
        ("a.pdf.exe", b"MZ\x90\x00" + b"\0" * 60, "不支持的文件类型"),
        ("x.php%00.pdf", b"<?php system($_GET['c']); ?>", "不符"),
        ("x.php\x00.pdf", b"<?php system($_GET['c']); ?>", "不符"),
        ("invoice\u202efdp.exe", PDF, "不支持的文件类型"),
        ("...", PDF, "文件名无效"),
        ("", PDF, "文件名无效"),
    ],
)
def test_hostile_names_are_refused(db, user, no_files_stored, name, data, message):
    with pytest.raises(UploadRejected) as exc:
        save_upload(upload(data, name), allowed=DOCS, by=user)
    assert message in str(exc.value)
    db.session.commit()


# --- contents (bad input 8) ----------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("申请书.pdf", HTML, "网页或 SVG"),
        ("申请书.pdf", b"\xef\xbb\xbf  <html><script>alert(1)</script>", "网页或 SVG"),
        ("图.pdf", SVG, "网页或 SVG"),
        ("图.png", SVG, "网页或 SVG"),
        ("图.png", b"<svg onload=alert(1)>", "网页或 SVG"),
        ("polyglot.pdf", PDF + b"<script>alert(1)</script>", "网页或 SVG"),
        ("空.pdf", b"", "文件为空"),
        ("假.pdf", b"this is plain text, not a PDF", "不符"),
        ("假.png", PDF, "不符"),
        ("假.docx", PDF, "不符"),
        ("假.docx", xlsx(), "不是有效"),
        ("坏.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "不是有效"),
        ("宏.docx", docx({"word/vbaProject.bin": b"\0" * 100}), "宏"),
        ("炸弹.docx", zip_bomb_docx(20), "压缩炸弹"),
    ],
)
def test_hostile_files_are_refused(db, user, no_files_stored, name, data, message):
    with pytest.raises(UploadRejected) as exc:
        save_upload(upload(data, name), allowed=DOCS, by=user)
    assert message in str(exc.value)
    db.session.commit()


def test_zip_bomb_by_total_size_and_member_count(app, db, user, no_files_stored, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_ZIP_MAX_UNCOMPRESSED", 512 * 1024)
    # Incompressible data: a low ratio, but more in total than allowed.
    with pytest.raises(UploadRejected, match="压缩炸弹"):
        save_upload(upload(docx({"word/media/a.bin": os.urandom(600 * 1024)}), "大.docx"), allowed=DOCS, by=user)
    monkeypatch.setitem(app.config, "UPLOAD_ZIP_MAX_MEMBERS", 50)
    many = {f"word/media/{i}.xml": b"<x/>" for i in range(60)}
    with pytest.raises(UploadRejected, match="压缩炸弹"):
        save_upload(upload(docx(many), "多.docx"), allowed=DOCS, by=user)


def test_a_zip_that_lies_about_its_sizes_is_refused(db, user, no_files_stored):
    data = bytearray(docx({"word/media/a.bin": b"\0" * 300_000}))
    # Patch the declared uncompressed size of that member (local header and central directory).
    name = b"word/media/a.bin"
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := data.find(sig, pos)) != -1:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                data[pos + offset : pos + offset + 4] = (1000).to_bytes(4, "little")
            pos += 4
    with pytest.raises(UploadRejected):
        save_upload(upload(bytes(data), "谎.docx"), allowed=DOCS, by=user)


def test_size_limit_per_call_one_byte_over(db, user, no_files_stored):
    body = PDF + b"%" * (1000 - len(PDF))
    assert len(body) == 1000
    with pytest.raises(UploadRejected, match="超过大小限制"):
        save_upload(upload(body + b"%", "大.pdf"), allowed={"pdf"}, by=user, max_bytes=1000)


def test_size_limit_exactly_at_the_limit_is_fine(db, user):
    body = PDF + b"%" * (1000 - len(PDF))
    assert save_upload(upload(body, "刚好.pdf"), allowed={"pdf"}, by=user, max_bytes=1000).size == 1000


def test_werkzeug_answers_413_above_max_content_length(app, monkeypatch):
    from flask import request

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    with app.test_request_context("/", method="POST", data={"file": (io.BytesIO(b"%" * 2000), "a.pdf")}):
        with pytest.raises(RequestEntityTooLarge) as exc:
            request.files  # noqa: B018 - parsing the body is what raises
    assert exc.value.code == 413


def test_jpeg_is_jpg(db, user):
    assert save_upload(upload(jpeg(), "照片.jpeg"), allowed={"jpg"}, by=user).content_type == "image/jpeg"


def test_extension_allowed_by_caller_only(db, user, no_files_stored):
    with pytest.raises(UploadRejected, match="仅允许上传：PDF"):
        save_upload(upload(png(), "图.png"), allowed={"pdf"}, by=user)


def test_unknown_allowed_extension_is_a_programming_error(db, user):
    with pytest.raises(ValueError, match="does not know"):
        save_upload(upload(PDF, "a.pdf"), allowed={"pdf", "exe"}, by=user)


def test_huge_image_dimensions_are_refused(db, user, no_files_stored):
    import struct
    import zlib

    # A valid PNG header claiming 20000 x 20000 pixels (400 M): refused before decoding.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(UploadRejected, match="尺寸过大"):
        save_upload(upload(data, "大图.png"), allowed=DOCS, by=user)


# --- transactions ------------------------------------------------------------------------------


def test_rolled_back_upload_leaves_no_bytes(app, db, user):
    before = set(stored_paths(app))
    sf = save_upload(upload(PDF, "a.pdf"), allowed={"pdf"}, by=user)
    key = sf.storage_key
    assert get_storage().exists(key)
    db.session.rollback()
    assert not get_storage().exists(key)
    assert set(stored_paths(app)) == before


def test_committed_upload_survives_a_later_rollback(db, user):
    sf = save_upload(upload(PDF, "a.pdf"), allowed={"pdf"}, by=user)
    db.session.commit()
    key = sf.storage_key
    make_user(Role.APPLICANT)
    db.session.rollback()
    assert get_storage().exists(key)


def test_save_generated(db):
    sf = save_generated(b"%PDF-1.7 generated", filename="报告/../x.pdf", content_type="application/pdf")
    assert sf.original_name == "x.pdf" and sf.uploaded_by_id is None
    assert read_bytes(sf) == b"%PDF-1.7 generated"
    assert db.session.scalar(db.select(AuditLog.action).where(AuditLog.object_id == sf.id)) == "file.generate"


# --- serving -------------------------------------------------------------------------------------


def test_send_stored_is_an_attachment_with_the_original_name(app, db, user):
    sf = save_upload(upload(PDF, "申请书.pdf"), allowed={"pdf"}, by=user)
    with app.test_request_context("/"):
        response = send_stored(sf)
        response.direct_passthrough = False
        assert response.get_data() == PDF
        response.close()
    cd = response.headers["Content-Disposition"]
    assert cd.startswith("attachment")
    assert "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E4%B9%A6.pdf" in cd
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"


def test_send_stored_inline_only_for_pdf_and_images(app, db, user):
    pdf = save_upload(upload(PDF, "a.pdf"), allowed={"pdf"}, by=user)
    word = save_upload(upload(docx(), "a.docx"), allowed={"docx"}, by=user)
    # A row claiming HTML (e.g. from an old import) is still never rendered by the browser.
    html = save_generated(b"<html><script>alert(1)</script></html>", filename="x.html", content_type="text/html")
    svg = save_generated(b"<svg/>", filename="x.svg", content_type="image/svg+xml")
    with app.test_request_context("/"):
        responses = {k: send_stored(sf, inline=True) for k, sf in (("pdf", pdf), ("docx", word), ("html", html), ("svg", svg))}
    for r in responses.values():
        r.close()
    assert responses["pdf"].headers["Content-Disposition"].startswith("inline")
    for kind in ("docx", "html", "svg"):
        assert responses[kind].headers["Content-Disposition"].startswith("attachment"), kind
    assert responses["html"].mimetype == "application/octet-stream"
    assert responses["svg"].mimetype == "application/octet-stream"


# --- storage -------------------------------------------------------------------------------------


def test_local_storage_refuses_keys_that_escape(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("../x", "/etc/passwd", "a/../../b", "A.PDF", "", "a//b"):
        with pytest.raises(StorageError):
            storage.put(key, b"x")
    storage.put("2026/12/abc", b"data")
    with storage.open("2026/12/abc") as fh:
        assert fh.read() == b"data"
    storage.delete("2026/12/abc")
    storage.delete("2026/12/abc")  # twice is fine
    assert not storage.exists("2026/12/abc")


def test_upload_dir_inside_static_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(Path(app.static_folder) / "uploads"))
    monkeypatch.delitem(app.extensions, "incubator_storage", raising=False)
    with app.app_context(), pytest.raises(StorageError, match="static"):
        get_storage()
    app.extensions.pop("incubator_storage", None)


def test_zipfile_sanity_of_helpers():
    assert zipfile.is_zipfile(io.BytesIO(docx()))
