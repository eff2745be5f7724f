"""Background job of the screening list: the Excel export of many applications."""
from __future__ import annotations

from datetime import date

from incubator.extensions import db


class ExportRefused(Exception):
    """The user who started the export may no longer screen (disabled, or role changed)."""


def export_applications(job, user_id: int, args: dict, on: str) -> None:
    """Build, store and attach the export of the list under ``args`` (its query string) as
    ``user_id`` sees it on day ``on``; safe to run twice (a finished job keeps its file).

    The scope is the user's own at the time the job runs: ``export_rows`` applies the same
    ``scope_clause`` as the list, so district staff get their district only.
    """
    from incubator.accounts.models import User
    from incubator.core.excel import XLSX_MIME, build_xlsx
    from incubator.core.files import save_generated
    from incubator.core.jobs import attach_result, report_progress
    from incubator.screening import queries

    if getattr(job, "result_file_id", None):
        return
    user = db.session.get(User, user_id)
    if user is None or not queries.may_screen(user):
        raise ExportRefused("您已无权导出申报书清单")
    filters = queries.ListFilters.from_args(args)
    filters.on = date.fromisoformat(on)
    report_progress(job, 10, "读取申报书并生成表格")
    # The rows stream from an open cursor: no commit (report_progress) until the workbook is done.
    data = build_xlsx(queries.EXPORT_HEADERS, queries.export_rows(user, filters))
    report_progress(job, 85, "保存文件")
    stored = save_generated(
        data, filename=f"资格审查-申报书清单-{filters.on:%Y%m%d}.xlsx", content_type=XLSX_MIME, by=user
    )
    attach_result(job, stored)
    report_progress(job, 100, "已完成，可以下载")
    db.session.flush()
