"""Backup and restore through the CLI: back up, change data and files, restore, everything is back.
SQLite always; PostgreSQL (pg_dump/pg_restore) when TEST_DATABASE_URL points there."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from incubator import create_app
from incubator.extensions import db as _db
from incubator.regions.models import District
from tests.conftest import IS_POSTGRES
from tests.conftest import test_config as make_test_config
from tests.factories import make_district
from tests.test_migrations import scratch_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def backup_app(request, tmp_path):
    """An app on a database of its own (never the suite's), with its tables and an upload folder."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
        scratch = None
    else:
        if not IS_POSTGRES:
            pytest.skip("PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://… (make test does)")
        scratch = scratch_postgres_database()
        url = scratch.__enter__()
    app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=str(tmp_path / "uploads")))
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if scratch is not None:
        scratch.__exit__(None, None, None)


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _district_names(app) -> list[str]:
    with app.app_context():
        _db.session.remove()
        return sorted(_db.session.scalars(select(District.name)))


def _seed(app) -> Path:
    with app.app_context():
        make_district(code="410302", name="老城区")
        make_district(code="410303", name="西工区")
        _db.session.commit()
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / "ab" / "cd").mkdir(parents=True)
    (uploads / "ab" / "cd" / "abcdef").write_bytes("申请书 v1".encode())
    return uploads


def test_backup_change_restore(backup_app, tmp_path):
    app = backup_app
    uploads = _seed(app)
    out = tmp_path / "backup-1"

    result = _run(app, "backup", str(out))
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["uploads"]["count"] == 1
    assert set(manifest["files"]) == {manifest["database"]["file"], "uploads.tar.gz"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())

    # Change everything after the backup: rows, a file's content, a new file.
    with app.app_context():
        district = _db.session.scalar(select(District).where(District.code == "410302"))
        district.name = "改过的名字"
        _db.session.delete(_db.session.scalar(select(District).where(District.code == "410303")))
        make_district(code="410304", name="瀍河回族区")
        _db.session.commit()
    (uploads / "ab" / "cd" / "abcdef").write_bytes(b"changed")
    (uploads / "ff").mkdir()
    (uploads / "ff" / "new").write_bytes(b"uploaded after the backup")
    assert _district_names(app) == ["改过的名字", "瀍河回族区"]

    refused = _run(app, "restore", str(out))
    assert refused.exit_code != 0
    assert "--force" in refused.output
    assert _district_names(app) == ["改过的名字", "瀍河回族区"]  # nothing touched

    result = _run(app, "restore", "--force", str(out))
    assert result.exit_code == 0, result.output
    assert "恢复完成" in result.output
    assert _district_names(app) == ["老城区", "西工区"]
    assert (uploads / "ab" / "cd" / "abcdef").read_bytes() == "申请书 v1".encode()
    assert not (uploads / "ff").exists()
    # The restored database is fully usable: new rows get fresh ids.
    with app.app_context():
        make_district(code="410305", name="涧西区")
        _db.session.commit()
    assert len(_district_names(app)) == 3


def test_restore_into_an_empty_database_needs_no_force(backup_app, tmp_path):
    app = backup_app
    _seed(app)
    out = tmp_path / "backup-2"
    assert _run(app, "backup", str(out)).exit_code == 0
    with app.app_context():
        _db.session.execute(District.__table__.delete())
        _db.session.commit()
    for f in Path(app.config["UPLOAD_DIR"]).rglob("*"):
        if f.is_file():
            f.unlink()

    result = _run(app, "restore", str(out))
    assert result.exit_code == 0, result.output
    assert _district_names(app) == ["老城区", "西工区"]


def test_a_damaged_backup_is_refused(backup_app, tmp_path):
    app = backup_app
    _seed(app)
    out = tmp_path / "backup-3"
    assert _run(app, "backup", str(out)).exit_code == 0
    archive = out / "uploads.tar.gz"
    data = bytearray(archive.read_bytes())
    data[-1] ^= 0xFF
    archive.write_bytes(bytes(data))

    result = _run(app, "restore", "--force", str(out))
    assert result.exit_code != 0
    assert "sha256" in result.output
    assert _district_names(app) == ["老城区", "西工区"]


def test_backup_refuses_a_folder_that_holds_files(backup_app, tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "something").write_text("x")
    result = _run(backup_app, "backup", str(out))
    assert result.exit_code != 0
    assert "不是空的" in result.output


def test_restore_refuses_a_folder_without_manifest(backup_app, tmp_path):
    empty = tmp_path / "not-a-backup"
    empty.mkdir()
    result = _run(backup_app, "restore", str(empty))
    assert result.exit_code != 0
    assert "manifest.json" in result.output
