"""Consistent backups and tested restores: the database plus the uploaded files (SECURITY.md, Data).

    flask --app incubator backup  OUT_DIR       OUT_DIR must be new or empty
    flask --app incubator restore BACKUP_DIR [--force]

A backup folder holds
    database.sqlite3   SQLite: a page-consistent copy made with the sqlite3 backup API, or
    database.pgdump    PostgreSQL: `pg_dump --format=custom` (one consistent snapshot)
    uploads.tar.gz     everything under UPLOAD_DIR
    manifest.json      what the folder holds, with the sha256 and size of each file

Restore checks every sha256 first, refuses a database (or upload folder) that holds data unless
``--force``, then replaces both. Run `flask db upgrade` afterwards when the code is newer.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from incubator.extensions import db

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
UPLOADS_FILE = "uploads.tar.gz"
FORMAT = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message is for the operator."""


# --- backup ---------------------------------------------------------------------------------------


def make_backup(out_dir: str | os.PathLike) -> dict:
    """Write a backup of the current app's database and uploads into ``out_dir``; return the manifest."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"目标目录不是空的：{out}")
    out.mkdir(parents=True, exist_ok=True)

    url = db.engine.url
    db.session.remove()
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), out / SQLITE_FILE)
        db_file = SQLITE_FILE
    elif url.get_backend_name() == "postgresql":
        _run_pg("pg_dump", url, "--format=custom", "--no-owner", "--no-privileges", f"--file={out / PG_FILE}")
        db_file = PG_FILE
    else:  # pragma: no cover - only the two supported databases
        raise BackupError(f"不支持的数据库：{url.get_backend_name()}")

    uploads = Path(current_app.config["UPLOAD_DIR"])
    upload_count = _tar_folder(uploads, out / UPLOADS_FILE)

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database": {
            "backend": url.get_backend_name(),
            "file": db_file,
            "alembic_revision": _alembic_revision(),
        },
        "uploads": {"file": UPLOADS_FILE, "count": upload_count},
        "files": {name: _file_facts(out / name) for name in (db_file, UPLOADS_FILE)},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Page-by-page copy through SQLite's online backup API: consistent even while others write."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _tar_folder(folder: Path, target: Path) -> int:
    count = 0
    with tarfile.open(target, "w:gz") as tar:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
                    count += 1
    return count


def _alembic_revision() -> str | None:
    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _file_facts(path: Path) -> dict:
    return {"sha256": _sha256(path), "bytes": path.stat().st_size}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- restore --------------------------------------------------------------------------------------


def restore_backup(backup_dir: str | os.PathLike, *, force: bool = False) -> dict:
    """Replace the current app's database and uploads with the backup in ``backup_dir``."""
    folder = Path(backup_dir)
    manifest = read_verified_manifest(folder)
    url = db.engine.url
    backend = manifest["database"]["backend"]
    if backend != url.get_backend_name():
        raise BackupError(f"备份来自 {backend} 数据库，不能恢复到 {url.get_backend_name()} 数据库")
    uploads = Path(current_app.config["UPLOAD_DIR"])
    if not force:
        holding = _tables_with_rows()
        if holding:
            raise BackupError(f"数据库中已有数据（{', '.join(holding[:5])} 等），如确需覆盖请加 --force")
        if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
            raise BackupError(f"上传目录中已有文件（{uploads}），如确需覆盖请加 --force")

    db.session.remove()
    db.engine.dispose()
    db_file = folder / manifest["database"]["file"]
    if backend == "sqlite":
        _sqlite_copy(db_file, _sqlite_path(url))
    else:
        _drop_all_tables()
        _run_pg(
            "pg_restore", url, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
            str(db_file),
        )
    db.engine.dispose()
    _replace_folder(folder / manifest["uploads"]["file"], uploads)
    return manifest


def read_verified_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"不是备份目录（缺少 {MANIFEST}）：{folder}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不认识的备份格式：{manifest.get('format')!r}")
    for name, facts in manifest["files"].items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise BackupError(f"备份文件缺失：{name}")
        if _sha256(path) != facts["sha256"]:
            raise BackupError(f"备份文件已损坏（sha256 不符）：{name}")
    return manifest


def _tables_with_rows() -> list[str]:
    names = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
    preparer = db.engine.dialect.identifier_preparer
    holding = []
    with db.engine.connect() as conn:
        for name in sorted(names):
            if conn.execute(text(f"SELECT 1 FROM {preparer.quote(name)} LIMIT 1")).first():
                holding.append(name)
    return holding


def _drop_all_tables() -> None:
    """PostgreSQL, before pg_restore: empty the schema so that no table of a newer schema is left over."""
    preparer = db.engine.dialect.identifier_preparer
    with db.engine.begin() as conn:
        names = inspect(conn).get_table_names()
        if names:
            conn.execute(text("DROP TABLE " + ", ".join(preparer.quote(n) for n in names) + " CASCADE"))
        for (seq,) in conn.execute(text("SELECT sequence_name FROM information_schema.sequences "
                                        "WHERE sequence_schema = current_schema()")):
            conn.execute(text(f"DROP SEQUENCE IF EXISTS {preparer.quote(seq)} CASCADE"))
    db.engine.dispose()


def _replace_folder(archive: Path, target: Path) -> None:
    """Unpack into a sibling folder, then swap it in: the old folder is removed only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [_safe_member(m) for m in tar.getmembers()]
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # pragma: no cover - Python without the tarfile filters (before 3.11.4)
                tar.extractall(staging, members=members)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.before-restore-{os.getpid()}")
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _safe_member(member: tarfile.TarInfo) -> tarfile.TarInfo:
    name = Path(member.name)
    if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
        raise BackupError(f"备份中的文件名不安全：{member.name}")
    return member


# --- PostgreSQL client tools ----------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The newest server version's tool (a pg_dump older than the server refuses to run), else PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}：请安装 postgresql-client")
    return found


def _run_pg(tool: str, url: URL, *args: str) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run(
        [_pg_tool(tool), f"--dbname={libpq_url}", *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} 失败：{result.stderr.strip()[-2000:]}")


# --- CLI ------------------------------------------------------------------------------------------


@click.command("backup")
@with_appcontext
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def backup_command(out_dir: Path) -> None:
    """Back up the database and the uploaded files into OUT_DIR (new or empty)."""
    try:
        manifest = make_backup(out_dir)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"备份完成：{out_dir}（数据库 {manifest['database']['backend']}，上传文件 {manifest['uploads']['count']} 个）")


@click.command("restore")
@with_appcontext
@click.argument("backup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database and upload folder that hold data.")
def restore_command(backup_dir: Path, force: bool) -> None:
    """Restore the database and the uploaded files from BACKUP_DIR."""
    try:
        manifest = restore_backup(backup_dir, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"恢复完成：{backup_dir}（备份时间 {manifest['created_at']}）。如代码较新，请运行 flask db upgrade。")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
