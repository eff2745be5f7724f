"""Excel exports at 20,000 rows: the 资格审查 list and the registry, before and after (one command).

    .venv/bin/python benchmarks/excel_export.py [--apps N] [--orgs M] [--repeat R]
    OPENPYXL_LXML=False .venv/bin/python benchmarks/excel_export.py     # openpyxl without lxml

Seeds a fresh temporary SQLite database with the staff list benchmark's data (``staff_list.seed``:
20,000 applications of 2,000 organisations in every screening state, credit lists, annual reports,
four calls with their own rules), then, for an admin and every application (``status=all``):

* **before** — the export as it was until this benchmark was written, kept below verbatim: every
  application loaded as an ORM object with its organisation, records, call and versions
  (``selectinload``), the flags of every row, then a normal openpyxl workbook with a styled cell
  object per cell, saved at the end;
* **after** — ``screening.queries.export_rows`` (plain tuples streamed with ``yield_per``, the
  eligibility reasons once per flagged organisation/call pair) into ``core.excel.build_xlsx``
  (openpyxl write-only mode, one reused styled cell per column for money and dates).

Both produce the same cell values (checked on every row). Each is timed end to end (query, rows,
workbook bytes), wall and process CPU time, median of ``--repeat`` runs; the ratio is
before / after. Then the same for the registry export (``orgs.services.export_rows``) on a second
database of ``--orgs`` organisations, and one request of each export route through the Flask
test client with its SQL statement count (constant: the script fails if a tenth of the rows runs
a different number of statements). The tail shows the background path: the request that starts
the job (rows above ``EXPORT_SYNC_MAX_ROWS``) and the job itself, run by an RQ worker in burst mode.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import event, select  # noqa: E402

from incubator.extensions import db  # noqa: E402
from staff_list import login, make_app, seed  # noqa: E402

# --------------------------------------------------------------------------- before (verbatim)


def before_build_xlsx(headers, rows, *, sheet_title="Sheet1") -> bytes:
    """``core.excel.build_xlsx`` before write-only mode."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from incubator.core.excel import DATE_FORMAT, DATETIME_FORMAT, MONEY_FORMAT, _display_width, safe_cell

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title[:31]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF0F4")
    widths = [_display_width(h) for h in headers]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=safe_cell(header))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    for r, row in enumerate(rows, start=2):
        for col, raw in enumerate(row, start=1):
            value = safe_cell(raw)
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            if col > len(widths):
                widths.append(0)
            widths[col - 1] = max(widths[col - 1], _display_width(value))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(ws.max_row, 1)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def before_screening_rows(user, filters):
    """``screening.queries.export_rows`` before: ORM objects for every row."""
    from incubator.applications.models import Application
    from incubator.db import to_local
    from incubator.screening import queries

    calls = queries.visible_calls()
    stmt = (
        select(Application)
        .join(Application.org)
        .where(*queries._where(user, filters, calls))
        .options(*queries.list_options())
        .order_by(*queries.SORTS[filters.sort][1]())
    )
    apps = list(db.session.scalars(stmt).unique())
    all_flags = queries.flags_for(apps, filters.on)
    for app in apps:
        flags = all_flags[app.id]
        yield [
            app.number, app.title, app.org.name, app.org.identifier,
            app.org.district.name if app.org.district else "", app.call.title,
            app.field.label if app.field else "", app.grant_requested, app.matching_amount, app.total_budget,
            to_local(app.submitted_at) if app.submitted_at else None,
            to_local(app.last_submitted_at) if app.last_submitted_at else None,
            app.status.label, len(app.versions), "；".join(flags.reasons) if flags.reasons else "无", app.revision_deadline,
        ]


def before_org_rows(user, filters):
    """``orgs.services.export_rows`` before: ORM objects for every organisation, dates as text."""
    from incubator.orgs import services
    from incubator.web import format_date, format_datetime

    day = filters.on
    for org in db.session.scalars(services.org_list_query(user, filters).options(*services.list_options())):
        rating = org.current_rating(day)
        credit = services.credit_summary(org, day)
        report = org.latest_annual_report(before_year=day.year)
        yield [
            org.name, org.org_type.label, org.identifier, org.district.name if org.district else "",
            org.street.name if org.street else "", org.community.name if org.community else "",
            format_date(org.founded_on), org.legal_rep, org.contact_name, org.contact_phone,
            "、".join(f.label for f in org.fields), org.staff_count, org.social_worker_count,
            rating.label if rating else "", "、".join(c.kind.label for c in credit) or "正常",
            f"{report.year}年度 {report.result.label}" if report else "", org.status.label, format_datetime(org.created_at),
        ]


# --------------------------------------------------------------------------- measuring


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``repeat`` calls (the session expired first: nothing cached)."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        db.session.expire_all()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), result


def count_statements(fn) -> int:
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(statements)


def compare(label: str, before_rows: list, after_rows: list, normalise=None) -> bool:
    if normalise:
        after_rows = [normalise(row) for row in after_rows]
    if before_rows == after_rows:
        print(f"  {label}: same {len(after_rows):,} rows, cell for cell")
        return True
    diff = next(i for i, (a, b) in enumerate(zip(before_rows, after_rows)) if a != b) if len(before_rows) == len(after_rows) else None
    print(f"  !! {label}: rows differ ({len(before_rows)} before, {len(after_rows)} after; first difference at {diff})")
    if diff is not None:
        print(f"     before {before_rows[diff]}\n     after  {after_rows[diff]}")
    return False


def report(label: str, before: tuple, after: tuple, size: int) -> None:
    (bw, bc), (aw, ac) = before, after
    print(f"{label:<34}{bw:>10.2f}{bc:>10.2f}{aw:>10.2f}{ac:>10.2f}{bw / aw:>9.1f}×{bc / ac:>8.1f}×{size / 1e6:>9.2f}")


HEADER = f"{'':<34}{'前 wall':>10}{'前 CPU':>10}{'后 wall':>10}{'后 CPU':>10}{'倍数':>10}{'CPU倍数':>9}{'MB':>9}"


def bench_screening(app, ids, repeat: int) -> bool:
    from incubator.accounts.models import User
    from incubator.core.excel import build_xlsx
    from incubator.screening import queries

    ok = True
    with app.test_request_context("/"):
        user = db.session.get(User, ids["admin"])
        filters = queries.ListFilters(status="all")
        headers = queries.EXPORT_HEADERS
        bw, bc, (before_rows, before_data) = timed(
            lambda: (rows := list(before_screening_rows(user, filters)), before_build_xlsx(headers, rows)), repeat)
        aw, ac, after_data = timed(lambda: build_xlsx(headers, queries.export_rows(user, filters)), repeat)
        after_rows = list(queries.export_rows(user, filters))
        print(HEADER)
        report(f"资格审查 {len(after_rows):,} 行", (bw, bc), (aw, ac), len(after_data))
        ok &= compare("资格审查 rows", before_rows, after_rows)
        # where the time goes now: the rows alone, the workbook alone
        rw, rc, _ = timed(lambda: list(queries.export_rows(user, filters)), repeat)
        xw, xc, _ = timed(lambda: build_xlsx(headers, after_rows), repeat)
        bxw, bxc, _ = timed(lambda: before_build_xlsx(headers, before_rows), repeat)
        print(f"  after: rows {rw:.2f} s wall / {rc:.2f} s CPU, workbook {xw:.2f} s / {xc:.2f} s "
              f"(the old workbook on the same rows: {bxw:.2f} s / {bxc:.2f} s, {bxc / xc:.1f}× CPU)")
        ok &= _check_workbook(after_data, len(after_rows))
        db.session.refresh(user)
        statements = count_statements(lambda: list(queries.export_rows(user, filters)))
        few = count_statements(lambda: list(queries.export_rows(user, queries.ListFilters(status="all", call_id=ids["call"] + 3))))
        print(f"  after: {statements} SQL statements for every row, {few} for one call's rows")
        ok &= statements == few
    return ok


def _check_workbook(data: bytes, n_rows: int) -> bool:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data), read_only=True).active
    rows = ws.iter_rows()
    header, first = next(rows), next(rows)
    count = 1 + sum(1 for _ in rows)
    money = [c for c in first if isinstance(c.value, (int, float)) and c.number_format == "#,##0.00"]
    dates = [c for c in first if c.is_date]
    formulas = [c for c in first if c.data_type == "f"]
    print(f"  workbook: {count:,} data rows, bold header, {len(money)} money cells (#,##0.00) and {len(dates)} date "
          f"cells in a row, no formulas")
    return all(c.font.b for c in header) and count == n_rows and bool(money) and bool(dates) and not formulas


def bench_orgs(app, ids, repeat: int) -> bool:
    from incubator.accounts.models import User
    from incubator.core.excel import build_xlsx
    from incubator.orgs import services
    from incubator.web import format_date, format_datetime

    def as_before(row):  # dates were text before; now real dates
        row = list(row)
        row[6], row[17] = format_date(row[6]), format_datetime(_utc(row[17]))
        return row

    ok = True
    with app.test_request_context("/"):
        user = db.session.get(User, ids["admin"])
        filters = services.OrgFilters()
        headers = services.EXPORT_HEADERS
        bw, bc, (before_rows, _) = timed(
            lambda: (rows := list(before_org_rows(user, filters)), before_build_xlsx(headers, rows)), repeat)
        aw, ac, after_data = timed(lambda: build_xlsx(headers, services.export_rows(user, filters)), repeat)
        after_rows = list(services.export_rows(user, filters))
        report(f"社会组织名录 {len(after_rows):,} 行", (bw, bc), (aw, ac), len(after_data))
        ok &= compare("社会组织名录 rows", before_rows, after_rows, as_before)
        db.session.refresh(user)
        statements = count_statements(lambda: list(services.export_rows(user, filters)))
        few = count_statements(lambda: list(services.export_rows(user, services.OrgFilters(district_id=2))))
        print(f"  after: {statements} SQL statements for every organisation, {few} for one district's")
        ok &= statements == few
    return ok


def _utc(local):
    from incubator.db import from_local

    return from_local(local)


def bench_routes(app, ids, urls: list[str], job_url: str | None) -> None:
    """Requests as a user makes them: each export synchronously, then the background job."""
    from incubator.accounts.models import User
    from incubator.core.jobs import Job, work_burst

    client = app.test_client()
    login(client, db.session.get(User, ids["admin"]))
    limit = app.config["EXPORT_SYNC_MAX_ROWS"]
    app.config["EXPORT_SYNC_MAX_ROWS"] = 10**9
    for url in urls:
        t0 = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        print(f"  GET {url} (synchronous): {time.perf_counter() - t0:.2f} s, {len(response.data) / 1e6:.1f} MB")
    app.config["EXPORT_SYNC_MAX_ROWS"] = limit
    if job_url is None:
        return
    t0 = time.perf_counter()
    response = client.post(job_url, data={"status": "all"})
    started = time.perf_counter() - t0
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"], response.status_code
    t0 = time.perf_counter()
    work_burst()
    ran = time.perf_counter() - t0
    db.session.expire_all()
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    size = job.result_file.size if job.result_file else 0
    print(f"  POST {job_url} (above EXPORT_SYNC_MAX_ROWS={limit:,}): answered in {started * 1000:.0f} ms with a "
          f"redirect to the job page; the job ran {ran:.2f} s → {job.status.label}, {size / 1e6:.1f} MB")


def main() -> int:
    from openpyxl import LXML

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=20_000)
    parser.add_argument("--orgs", type=int, default=20_000, help="organisations of the registry export")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"openpyxl writes XML with {'lxml' if LXML else 'the standard library (OPENPYXL_LXML=False or no lxml)'}; "
          f"median of {args.repeat} runs, seconds")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-excel-") as tmp:
        runs = (
            ("apps", args.apps, 2_000, bench_screening, ["/staff/applications/export?status=all"], "/staff/applications/export"),
            ("orgs", 0, args.orgs, bench_orgs, ["/orgs/export"], None),
        )
        for name, n_apps, n_orgs, bench, urls, job_url in runs:
            print()
            app = make_app(f"sqlite:///{Path(tmp) / (name + '.db')}", Path(tmp) / name)
            with app.app_context():
                db.create_all()
                ids = seed(n_apps, n_orgs)
                ok &= bench(app, ids, args.repeat)
                bench_routes(app, ids, urls, job_url)
                db.session.remove()
                db.engine.dispose()
    print("\n" + ("OK: same cells before and after; statement count independent of the rows." if ok else "FAILED (see !! lines)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
