"""Excel import of experts: the template, and a check of every row before anything is added.

The sheet's first row holds the headers of ``HEADERS`` (any order; extra columns are ignored).
Every data row is checked — required values, mobile and e-mail format, USCC check character,
field labels, district names, the number of reviews — and against the other rows and the pool
(duplicate mobile or e-mail). Any problem anywhere rejects the whole file with every problem and
its row number (``ImportRejected.errors``); the caller imports nothing then.

Cells are read as values, never evaluated: a cell holding a formula (``=…``) or text starting with
``+ - @`` is taken as the text it is. The workbook is opened by openpyxl without computing
anything, after ``save_upload`` has checked it is a real .xlsx within the archive-bomb limits.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from incubator.accounts.normalize import is_mobile, normalize_email, normalize_mobile, single_line
from incubator.orgs.models import ServiceField

HEADERS = ["姓名", "手机", "邮箱", "职称", "工作单位", "单位统一社会信用代码", "专业领域", "所在区", "每轮最多评审数"]
REQUIRED = {"姓名", "手机", "邮箱", "工作单位", "专业领域"}
MAX_ROWS = 1000
DEFAULT_MAX_REVIEWS = 10
MAX_REVIEWS = 100
FIELD_SEPARATORS = re.compile(r"[、，,;；/／|\s]+")
LIMITS = {"姓名": 50, "职称": 50, "工作单位": 100, "邮箱": 254}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportRejected(Exception):
    """The file has bad rows; ``errors`` lists every one (row number and reason), in row order."""

    status = 422

    def __init__(self, errors: list["RowError"]):
        order = {h: i for i, h in enumerate(HEADERS)}
        self.errors = sorted(errors, key=lambda e: (e.row, order.get(e.column or "", -1)))
        super().__init__(f"导入失败：共有{len({e.row for e in self.errors})}行存在问题，未导入任何专家")
        self.message = str(self)


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number (1 is the header row); 0 for the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        return f"{where}{'【' + self.column + '】' if self.column else ''}：{self.message}"


@dataclass
class ParsedRow:
    row: int
    details: object  # services.ExpertDetails


# --- template -----------------------------------------------------------------------------------


def template_bytes(district_names: list[str]) -> bytes:
    """The .xlsx offered for download: a data sheet with the headers, and an instructions sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "专家名单"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF0F4")
    widths = [10, 14, 26, 16, 30, 24, 26, 12, 14]
    for col, (header, width) in enumerate(zip(HEADERS, widths), start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    # Mobile and USCC as text, so Excel keeps every digit (and no 1.38E+10).
    for col in (2, 6):
        for r in range(2, 502):
            ws.cell(row=r, column=col).number_format = "@"
    if district_names:
        dv = DataValidation(type="list", formula1='"' + ",".join(district_names) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="所在区", error="请从列表中选择所在区")
        ws.add_data_validation(dv)
        dv.add("H2:H1001")
    ws.freeze_panes = "A2"

    info = wb.create_sheet("填写说明")
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 90
    lines = [
        ("填写说明", ""),
        ("", "在“专家名单”工作表第2行起每行填写一位专家，请勿修改第1行表头。"),
        ("", "任何一行有错误时，整个文件都不会导入；系统会列出每一行的问题，修改后重新上传即可。"),
        ("", f"一次最多导入{MAX_ROWS}行。单元格中的公式不会被计算，按文字处理。"),
        ("列", "要求"),
        ("姓名", "必填，最多50个字。"),
        ("手机", "必填，11位中国大陆手机号；不能与专家库或文件中其他专家重复。请将该列设为文本格式。"),
        ("邮箱", "必填，专家的登录账号；导入后系统向该邮箱发送设置密码的链接。不能重复。"),
        ("职称", "选填，例如：教授、副教授、高级社会工作师、注册会计师、律师。"),
        ("工作单位", "必填，退休人员可填写“某某大学（退休）”。"),
        ("单位统一社会信用代码", "选填，18位；填写后系统校验并自动关联本平台已登记的组织（用于回避）。"),
        ("专业领域", "必填，一个或多个，用顿号“、”分隔，只能使用：" + "、".join(f.label for f in ServiceField)),
        ("所在区", "选填，只能使用：" + ("、".join(district_names) if district_names else "（尚未设置区划）")),
        ("每轮最多评审数", f"选填，1至{MAX_REVIEWS}的整数，不填默认为{DEFAULT_MAX_REVIEWS}。"),
        ("示例", "张明 | 13903791234 | zhangming@haust.edu.cn | 教授 | 河南科技大学 | （空） | 养老、社区治理 | 洛龙区 | 8"),
    ]
    for r, (a, b) in enumerate(lines, start=1):
        info.cell(row=r, column=1, value=a).font = Font(bold=bool(a))
        info.cell(row=r, column=2, value=b).alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading ------------------------------------------------------------------------------------


def _text(value) -> str:
    """A cell as text, exactly as stored: formulas and '+ - @' stay the text they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = getattr(value, "text", None)  # openpyxl ArrayFormula / DataTableFormula
    if isinstance(text, str):
        return single_line(text)
    return single_line(str(value))


def _number(value) -> int | None | str:
    """The reviews limit: an int, None for blank, or the reason it is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "应为整数"
    if isinstance(value, int):
        n = value
    elif isinstance(value, (float, Decimal)):
        if value != int(value):
            return "应为整数"
        n = int(value)
    else:
        text = single_line(str(value))
        if not re.fullmatch(r"[0-9]{1,6}", text):
            return f"“{text[:20]}”不是整数"
        n = int(text)
    if not 1 <= n <= MAX_REVIEWS:
        return f"应为1至{MAX_REVIEWS}的整数"
    return n


def _fields(text: str) -> tuple[list[ServiceField], list[str]]:
    by_label = {f.label: f for f in ServiceField}
    by_value = {f.value: f for f in ServiceField}
    found, unknown = [], []
    for part in FIELD_SEPARATORS.split(text):
        if not part:
            continue
        f = by_label.get(part) or by_value.get(part.lower())
        if f is None:
            unknown.append(part)
        elif f not in found:
            found.append(f)
    return found, unknown


def _open_sheet(data: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it ignores
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for broken files
            raise ImportRejected([RowError(0, None, "无法读取该 Excel 文件，请使用下载的模板重新填写")]) from exc
    ws = wb["专家名单"] if "专家名单" in wb.sheetnames else wb.worksheets[0]
    return wb, ws


def read_rows(data: bytes, *, districts: dict[str, int], own_district: int | None = None,
              own_district_name: str | None = None) -> list[ParsedRow]:
    """Every row checked; returns the parsed rows, or raises ImportRejected with every problem."""
    from incubator.orgs import uscc as uscc_mod
    from incubator.pools import services

    wb, ws = _open_sheet(data)
    errors: list[RowError] = []
    parsed: list[ParsedRow] = []
    try:
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        names = [_text(h) for h in (header or ())]
        missing = [h for h in HEADERS if h not in names]
        if missing:
            raise ImportRejected([RowError(1, None, "缺少表头：" + "、".join(missing) + "。请使用下载的模板")])
        col = {h: names.index(h) for h in HEADERS}
        seen_mobile: dict[str, int] = {}
        seen_email: dict[str, int] = {}
        count = 0
        for r, values in enumerate(rows, start=2):
            values = tuple(values or ())
            if not any(v is not None and _text(v) for v in values):
                continue  # blank row
            count += 1
            if count > MAX_ROWS:
                errors.append(RowError(r, None, f"一次最多导入{MAX_ROWS}行，请分批导入"))
                break

            def cell(h):
                i = col[h]
                return values[i] if i < len(values) else None

            row_errors: list[RowError] = []

            def bad(column, message):
                row_errors.append(RowError(r, column, message))

            text = {h: _text(cell(h)) for h in HEADERS if h != "每轮最多评审数"}
            for h in HEADERS:
                if h in REQUIRED and not text.get(h):
                    bad(h, f"请填写{h}")
            for h, limit in LIMITS.items():
                if len(text[h]) > limit:
                    bad(h, f"最多{limit}个字符")
            mobile = normalize_mobile(text["手机"])
            if text["手机"] and not is_mobile(mobile):
                bad("手机", f"“{text['手机'][:20]}”不是有效的11位手机号")
            email = normalize_email(text["邮箱"])
            if text["邮箱"] and not _valid_email(email):
                bad("邮箱", f"“{text['邮箱'][:60]}”不是有效的邮箱")
            code = None
            if text["单位统一社会信用代码"]:
                try:
                    code = uscc_mod.validate(text["单位统一社会信用代码"])
                except ValueError as exc:
                    bad("单位统一社会信用代码", str(exc))
            fields, unknown = _fields(text["专业领域"])
            if unknown:
                bad("专业领域", "无法识别“" + "、".join(u[:20] for u in unknown) + "”，可用："
                    + "、".join(f.label for f in ServiceField))
            elif text["专业领域"] and not fields:
                bad("专业领域", "请填写专业领域")
            district_id = None
            if text["所在区"]:
                district_id = districts.get(text["所在区"])
                if district_id is None:
                    bad("所在区", f"无法识别“{text['所在区'][:20]}”，可用：" + "、".join(districts))
            if own_district is not None:
                if district_id is None and not text["所在区"]:
                    district_id = own_district
                elif district_id is not None and district_id != own_district:
                    bad("所在区", f"区级工作人员只能导入本区（{own_district_name}）的专家")
            limit = _number(cell("每轮最多评审数"))
            if isinstance(limit, str):
                bad("每轮最多评审数", limit)
            # Duplicates inside the file and in the pool.
            if is_mobile(mobile):
                if mobile in seen_mobile:
                    bad("手机", f"与第{seen_mobile[mobile]}行的手机号重复")
                else:
                    seen_mobile[mobile] = r
            if email and _valid_email(email):
                if email in seen_email:
                    bad("邮箱", f"与第{seen_email[email]}行的邮箱重复")
                else:
                    seen_email[email] = r
            if is_mobile(mobile) and email and _valid_email(email):
                for problem in services.identity_problems(email=email, mobile=mobile):
                    bad({"email": "邮箱", "mobile": "手机"}.get(problem.field or "", None), problem.message)
            if row_errors:
                errors.extend(row_errors)
                continue
            parsed.append(ParsedRow(r, services.ExpertDetails(
                name=text["姓名"], mobile=mobile, email=email, employer=text["工作单位"], title=text["职称"] or None,
                employer_uscc=code, fields=fields, district_id=district_id,
                max_reviews_per_round=limit if isinstance(limit, int) else DEFAULT_MAX_REVIEWS,
            )))
        if not errors and not parsed:
            errors.append(RowError(0, None, "文件中没有专家数据，请从第2行起填写"))
    finally:
        wb.close()
    if errors:
        raise ImportRejected(errors)
    return parsed


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _valid_email(email: str) -> bool:
    if not _EMAIL_RE.match(email) or len(email) > 254:
        return False
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
