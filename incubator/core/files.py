"""Uploaded and generated files: validation, storage, download (SECURITY.md items 7 and 8, ASVS 5.2/5.3).

``save_upload`` checks a file completely *before* anything is written: size, a non-empty body,
the extension against the caller's ``allowed`` set, magic bytes that agree with that extension,
no HTML/SVG whatever the name, real OOXML zips with archive-bomb limits, images with sane
dimensions. The user's file name is cleaned and kept only as ``original_name``; the bytes live
under a generated key in the storage backend (``incubator.core.storage``), outside ``static/``.
If the surrounding transaction rolls back, the stored bytes are deleted again.

Callers check permissions, then ``send_stored(sf)``: always an attachment (inline only for PDF
and images), ``nosniff``, the original name as download name.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from datetime import datetime

import filetype
from flask import Response, current_app, send_file
from sqlalchemy import BigInteger, DateTime, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from incubator.core import audit
from incubator.core.storage import get_storage
from incubator.db import Base, utcnow
from incubator.extensions import db


class UploadRejected(ValueError):
    """The upload is refused; ``str(exc)`` is a Chinese message for the user."""


class StoredFile(Base):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    original_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def extension(self) -> str:
        return _split_ext(self.original_name)[1]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<StoredFile #{self.id} {self.original_name!r} {self.size}B>"


# --- what may be uploaded --------------------------------------------------------------------

OOXML_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
# Magic-byte kinds (filetype's extension) accepted for each allowed extension.
MAGIC_KINDS = {
    "pdf": {"pdf"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "png": {"png"},
    # filetype recognises OOXML only when the zip entries come in a certain order; a bare "zip"
    # is accepted here and the zip inspection below decides what it really is.
    "docx": {"docx", "xlsx", "pptx", "zip"},
    "xlsx": {"docx", "xlsx", "pptx", "zip"},
    "pptx": {"docx", "xlsx", "pptx", "zip"},
}
TYPE_LABELS = {"pdf": "PDF", "docx": "Word（.docx）", "xlsx": "Excel（.xlsx）", "pptx": "PowerPoint（.pptx）",
               "jpg": "JPG 图片", "jpeg": "JPG 图片", "png": "PNG 图片"}
INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}
NEVER_INLINE_RE = re.compile(r"html|svg|xml|javascript|ecmascript", re.I)
# Markup that a browser would render or run, looked for at the start of every upload.
MARKUP_RE = re.compile(
    rb"<\s*(?:!doctype\s+html|html|svg|script|body|head|iframe|object|embed|meta|\?xml[^>]*>\s*<svg)\b",
    re.I,
)
MAX_NAME_CHARS = 120
MAX_IMAGE_PIXELS = 40_000_000


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB" if n % (1024 * 1024) == 0 else f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def allowed_label(allowed: Iterable[str]) -> str:
    seen: list[str] = []
    for ext in sorted(allowed):
        label = TYPE_LABELS.get(ext, ext.upper())
        if label not in seen:
            seen.append(label)
    return "、".join(seen)


# --- file names ------------------------------------------------------------------------------


def sanitize_filename(name: str | None) -> str:
    """A display name safe to keep: no path parts, NUL, control, bidi or zero-width characters.

    It is never used as a path (storage keys are generated); it is shown and offered as the
    download name. Returns "" when nothing usable is left.
    """
    if not name:
        return ""
    name = unicodedata.normalize("NFC", str(name))
    # Control (Cc) and format (Cf: RTL override U+202E, zero-width joiners, BOM…) characters go.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = re.split(r"[/\\]", name)[-1]  # path parts, both separators
    name = re.sub(r"\s+", " ", name).strip().strip(".").strip()
    name = re.sub(r'[<>:"|?*]', "_", name)
    if not name:
        return ""
    stem, ext = _split_ext(name)
    stem = stem.strip() or "文件"
    if len(name) > MAX_NAME_CHARS:
        keep = MAX_NAME_CHARS - (len(ext) + 1 if ext else 0)
        stem = stem[: max(keep, 1)].rstrip()
    return f"{stem}.{ext}" if ext else stem


def _split_ext(name: str) -> tuple[str, str]:
    if "." not in name:
        return name, ""
    stem, ext = name.rsplit(".", 1)
    return stem, ext.lower()


# --- checks ----------------------------------------------------------------------------------


def _read_limited(file_storage, limit: int) -> bytes:
    stream = file_storage.stream if hasattr(file_storage, "stream") else file_storage
    try:
        stream.seek(0)
    except (AttributeError, OSError):  # pragma: no cover - non-seekable streams start at 0
        pass
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(f"文件超过大小限制（最大 {human_size(limit)}），请压缩后重新上传。")
    return data


def _check_not_markup(data: bytes) -> None:
    head = data[:4096].lstrip(b"\xef\xbb\xbf\x00\t\r\n ")
    if MARKUP_RE.search(head):
        raise UploadRejected("文件内容是网页或 SVG 图形，出于安全原因不能上传。")


def _check_ooxml(data: bytes, ext: str) -> None:
    cfg = current_app.config
    max_total = int(cfg.get("UPLOAD_ZIP_MAX_UNCOMPRESSED", 100 * 1024 * 1024))
    max_members = int(cfg.get("UPLOAD_ZIP_MAX_MEMBERS", 2000))
    max_ratio = int(cfg.get("UPLOAD_ZIP_MAX_RATIO", 200))
    bad = UploadRejected(f"文件不是有效的 {TYPE_LABELS[ext]} 文档，请用办公软件另存后重新上传。")
    bomb = UploadRejected("文件解压后过大或压缩比异常，疑似压缩炸弹，已拒绝。")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise bad from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise bomb
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or OOXML_MAIN_PART[ext] not in names:
            raise bad
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1:  # encrypted member
                raise bad
            if info.filename.startswith(("/", "\\")) or ".." in info.filename.split("/"):
                raise bad
            if info.filename.lower().endswith("vbaproject.bin"):
                raise UploadRejected("文件包含宏代码，出于安全原因不能上传，请另存为不含宏的文档。")
            declared += info.file_size
            if declared > max_total:
                raise bomb
            if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
                raise bomb
        # Decompress everything with a running cap: the declared sizes must be honest (CRC checked).
        actual = 0
        try:
            for info in infos:
                with zf.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        actual += len(chunk)
                        if actual > max_total:
                            raise bomb
        except UploadRejected:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
            raise bad from exc


def _check_image(data: bytes, ext: str) -> None:
    from PIL import Image

    bad = UploadRejected(f"文件不是有效的 {TYPE_LABELS[ext]}，请重新导出后上传。")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise UploadRejected("图片尺寸过大，请缩小后重新上传。")
                img.verify()
        except UploadRejected:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise UploadRejected("图片尺寸过大，请缩小后重新上传。") from exc
        except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for broken files
            raise bad from exc


def validate_upload(data: bytes, name: str, allowed: Iterable[str]) -> tuple[str, str]:
    """Check the bytes against the cleaned name; return (extension, content type) or raise."""
    allowed = {a.lower().lstrip(".") for a in allowed}
    if allowed & {"jpg", "jpeg"}:  # one format, two spellings
        allowed |= {"jpg", "jpeg"}
    unknown = allowed - set(CONTENT_TYPES)
    if unknown:  # a programming error, not a user error
        raise ValueError(f"save_upload does not know how to check: {sorted(unknown)}")
    if not data:
        raise UploadRejected("文件为空（0 字节），请选择正确的文件。")
    _check_not_markup(data)
    _, ext = _split_ext(name)
    if ext not in allowed:
        raise UploadRejected(f"不支持的文件类型，仅允许上传：{allowed_label(allowed)}。")
    kind = filetype.guess(data)
    if kind is None or kind.extension not in MAGIC_KINDS[ext]:
        raise UploadRejected(f"文件内容与扩展名 .{ext} 不符，请上传真实的 {TYPE_LABELS[ext]} 文件。")
    if ext in OOXML_MAIN_PART:
        _check_ooxml(data, ext)
    elif ext in ("jpg", "jpeg", "png"):
        _check_image(data, ext)
    return ext, CONTENT_TYPES[ext]


# --- storing ---------------------------------------------------------------------------------


def _new_key() -> str:
    now = utcnow()
    return f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


def _store(data: bytes, *, name: str, content_type: str, by) -> StoredFile:
    storage = get_storage()
    key = _new_key()
    storage.put(key, data)
    db.session.info.setdefault("incubator_new_file_keys", []).append(key)
    sf = StoredFile(
        original_name=name,
        storage_key=key,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        uploaded_by_id=getattr(by, "id", None),
    )
    db.session.add(sf)
    try:
        db.session.flush()
    except Exception:
        storage.delete(key)
        raise
    return sf


def save_upload(file_storage, *, allowed: Iterable[str], by, max_bytes: int | None = None) -> StoredFile:
    """Validate an uploaded ``werkzeug.FileStorage`` and store it; raise ``UploadRejected`` if bad.

    Nothing is written when the file is refused. Audited as ``file.upload``.
    """
    if file_storage is None:
        raise UploadRejected("请选择要上传的文件。")
    limit = max_bytes if max_bytes is not None else int(current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024)
    raw_name = getattr(file_storage, "filename", None)
    name = sanitize_filename(raw_name)
    if not name:
        raise UploadRejected("文件名无效，请重命名后重新上传。")
    data = _read_limited(file_storage, limit)
    _, content_type = validate_upload(data, name, allowed)
    sf = _store(data, name=name, content_type=content_type, by=by)
    audit.record(
        "file.upload",
        sf,
        after={"name": sf.original_name, "size": sf.size, "sha256": sf.sha256, "content_type": content_type},
        actor=by,
    )
    return sf


def save_generated(data: bytes, *, filename: str, content_type: str, by=None) -> StoredFile:
    """Store bytes the platform made itself (a PDF, an export). Audited as ``file.generate``."""
    name = sanitize_filename(filename) or "文件"
    sf = _store(data, name=name, content_type=content_type, by=by)
    audit.record("file.generate", sf, after={"name": sf.original_name, "size": sf.size, "sha256": sf.sha256}, actor=by)
    return sf


def read_bytes(sf: StoredFile) -> bytes:
    with get_storage().open(sf.storage_key) as fh:
        return fh.read()


def send_stored(sf: StoredFile, *, inline: bool = False) -> Response:
    """The file as a download. The caller has checked permissions already."""
    content_type = sf.content_type or "application/octet-stream"
    if NEVER_INLINE_RE.search(content_type) or content_type not in INLINE_TYPES:
        inline = False
    if NEVER_INLINE_RE.search(content_type):
        content_type = "application/octet-stream"
    # Small files are read at once (nothing stays open); large ones are streamed from storage.
    if (sf.size or 0) <= int(current_app.config.get("SEND_STORED_BUFFER_BYTES", 8 * 1024 * 1024)):
        body = io.BytesIO(read_bytes(sf))
    else:
        body = get_storage().open(sf.storage_key)
    response = send_file(
        body,
        mimetype=content_type,
        as_attachment=not inline,
        download_name=sf.original_name,
        conditional=True,
        etag=sf.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- bytes of a rolled-back transaction are removed again ------------------------------------


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop("incubator_new_file_keys", None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_new_files(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None or previous_transaction.nested:
        return  # a savepoint: the outer transaction decides
    keys = session.info.pop("incubator_new_file_keys", None)
    if not keys:
        return
    try:
        storage = get_storage()
    except RuntimeError:  # pragma: no cover - no app context: leave the orphans to a cleanup
        return
    for key in keys:
        storage.delete(key)
