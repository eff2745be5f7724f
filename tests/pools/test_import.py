"""Excel import of experts: real .xlsx files, every kind of bad row, all-or-nothing, formulas as text,
files that are not what they claim to be."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from incubator.accounts.models import Role, User
from incubator.core.files import StoredFile
from incubator.orgs.models import ServiceField
from incubator.pools import importer
from incubator.pools.models import Expert
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_uscc, make_user
from tests.pools.helpers import make_expert

HEADERS = importer.HEADERS


def xlsx(rows, headers=HEADERS, sheet="专家名单") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(name="张明", mobile="13903791234", email="zhangming@haust.edu.cn", title="教授", employer="河南科技大学",
        uscc="", fields="养老、社区治理", district="", limit=8):
    return [name, mobile, email, title, employer, uscc, fields, district, limit]


def upload(client, data: bytes, name="专家名单.xlsx"):
    return client.post("/pools/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.fixture()
def staff(db, client):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, user)
    return user


def _counts(db):
    return (db.session.scalar(db.select(db.func.count(Expert.id))),
            db.session.scalar(db.select(db.func.count(User.id)).where(User.role == Role.EXPERT)))


def test_template_download_has_headers_and_instructions(client, staff, db):
    make_district(name="洛龙区")
    db.session.commit()
    r = client.get("/pools/import/template")
    assert r.status_code == 200 and r.mimetype == importer.XLSX_MIME
    assert "attachment" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["专家名单", "填写说明"]
    assert [c.value for c in wb["专家名单"][1]] == HEADERS
    text = " ".join(str(c.value) for line in wb["填写说明"].iter_rows() for c in line if c.value)
    assert "养老" in text and "洛龙区" in text and "整个文件都不会导入" in text


def test_good_file_imports_every_row(client, staff, db):
    d = make_district(name="洛龙区")
    org = make_org()
    db.session.commit()
    data = xlsx([
        row(),
        row(name="刘晓燕", mobile=13903791235, email="liu@lit.edu.cn", fields="托育,青少年", district="洛龙区",
            uscc=org.uscc.lower(), limit=5.0),
        [],  # blank rows are skipped
        row(name="吴海涛", mobile="+86 139-0379-1236", email="Wu@Luocheng-CPA.com", title=None, fields="其他", limit=None),
    ])
    r = upload(client, data)
    assert r.status_code == 302, r.get_data(as_text=True)
    experts = {e.name: e for e in db.session.scalars(db.select(Expert))}
    assert set(experts) == {"张明", "刘晓燕", "吴海涛"}
    liu = experts["刘晓燕"]
    assert liu.mobile == "13903791235" and liu.district_id == d.id and liu.max_reviews_per_round == 5
    assert liu.employer_uscc == org.uscc and liu.employer_org_id == org.id
    assert liu.field_values == {ServiceField.CHILDCARE, ServiceField.YOUTH}
    wu = experts["吴海涛"]
    assert (wu.mobile, wu.email, wu.title, wu.max_reviews_per_round) == ("13903791236", "wu@luocheng-cpa.com", None, 10)
    assert all(e.user.role == Role.EXPERT for e in experts.values())
    follow = client.get(r.headers["Location"])
    assert "导入成功：共3位专家" in follow.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(StoredFile.id))) == 1


def test_every_bad_row_is_reported_and_nothing_is_imported(client, staff, db):
    make_district(name="洛龙区")
    make_expert(mobile="13700001111", email="in.pool@x.cn")
    make_user(Role.APPLICANT, email="applicant@org.cn", org=make_org())
    db.session.commit()
    before = _counts(db)
    data = xlsx([
        row(),                                                      # 2: good
        row(name="", mobile="13903790002", email="a2@x.cn"),         # 3: missing name
        row(mobile="1390379", email="a3@x.cn"),                      # 4: bad mobile
        row(mobile="13903790004", email="not-an-email"),             # 5: bad e-mail
        row(mobile="13903791234", email="a5@x.cn"),                  # 6: same mobile as row 2
        row(mobile="13903790006", email="ZhangMing@haust.edu.cn"),   # 7: same e-mail as row 2 (case)
        row(mobile="13700001111", email="a7@x.cn"),                  # 8: mobile already in the pool
        row(mobile="13903790008", email="applicant@org.cn"),         # 9: another role's account
        row(mobile="13903790009", email="a9@x.cn", fields="养老、宠物"),  # 10: unknown field
        row(mobile="13903790010", email="a10@x.cn", uscc="52410302MJ0000001X"),  # 11: bad USCC
        row(mobile="13903790011", email="a11@x.cn", limit="十"),      # 12: not a number
        row(mobile="13903790012", email="a12@x.cn", limit=0),         # 13: out of range
        row(mobile="13903790013", email="a13@x.cn", limit=2.5),       # 14: not a whole number
        row(mobile="13903790014", email="a14@x.cn", district="火星区"),  # 15: unknown district
        row(mobile="13903790015", email="a15@x.cn", fields=""),       # 16: no field
        row(mobile="13903790016", email="a16@x.cn", employer=""),     # 17: no employer
        row(name="名" * 51, mobile="13903790017", email="a17@x.cn"),  # 18: name too long
    ])
    r = upload(client, data)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "未导入任何专家" in page and "共有16行存在问题" in page
    from html import unescape

    text = unescape(page)
    expected = {
        3: "请填写姓名", 4: "不是有效的11位手机号", 5: "不是有效的邮箱", 6: "与第2行的手机号重复",
        7: "与第2行的邮箱重复", 8: "该手机号已在专家库中", 9: "该邮箱已被其他账号使用", 10: "无法识别“宠物”",
        11: "校验位不正确", 12: "“十”不是整数", 13: "应为1至100的整数", 14: "应为整数", 15: "无法识别“火星区”",
        16: "请填写专业领域", 17: "请填写工作单位", 18: "最多50个字符",
    }
    # Each problem is listed in a row of the error table with its spreadsheet row number.
    import re

    rows = re.findall(r"<tr><td class=\"text-end font-monospace\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", text)
    by_row = {}
    for n, _col, msg in rows:
        by_row.setdefault(int(n), []).append(msg)
    assert set(by_row) == set(expected)
    for n, fragment in expected.items():
        assert any(fragment in m for m in by_row[n]), (n, by_row[n])
    assert _counts(db) == before
    assert db.session.scalar(db.select(db.func.count(StoredFile.id))) == 0


def test_reading_reports_row_numbers_directly(db):
    with pytest.raises(importer.ImportRejected) as exc:
        importer.read_rows(xlsx([row(), row(email="x@y.cn", mobile="123")]), districts={})
    assert [str(e) for e in exc.value.errors] == ["第3行【手机】：“123”不是有效的11位手机号"]


def test_formula_like_cells_stay_text(client, staff, db):
    data = xlsx([
        row(name='=HYPERLINK("http://x","点击")', title="@SUM(1)", employer="+cmd|' /C calc'!A0",
            mobile="+8613903791234"),
        row(name="-2+3", mobile="13903791235", email="b@x.cn", employer="=1+1", title="=SUM(A1:A3)"),
    ])
    # openpyxl stores "=…" as formulas: the file really holds formula cells.
    ws = load_workbook(io.BytesIO(data))["专家名单"]
    assert ws["A2"].data_type == "f" and ws["E3"].data_type == "f"
    r = upload(client, data)
    assert r.status_code == 302, r.get_data(as_text=True)
    experts = {e.mobile: e for e in db.session.scalars(db.select(Expert))}
    first, second = experts["13903791234"], experts["13903791235"]
    assert first.name == '=HYPERLINK("http://x","点击")' and first.title == "@SUM(1)"
    assert first.employer == "+cmd|' /C calc'!A0"
    assert (second.name, second.employer, second.title) == ("-2+3", "=1+1", "=SUM(A1:A3)")
    # and the list shows them as inert text
    page = client.get("/pools/experts").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;点击&#34;)" in page or "=HYPERLINK(&quot;" in page


def test_missing_headers_and_empty_file(client, staff, db):
    r = upload(client, xlsx([row()], headers=HEADERS[:-2]))
    assert r.status_code == 422 and "缺少表头：所在区、每轮最多评审数" in r.get_data(as_text=True)
    r = upload(client, xlsx([]))
    assert r.status_code == 422 and "文件中没有专家数据" in r.get_data(as_text=True)
    assert _counts(db) == (0, 0)


def test_columns_in_another_order_and_other_sheet_names(db):
    headers = list(reversed(HEADERS))
    rows = importer.read_rows(xlsx([list(reversed(row()))], headers=headers, sheet="Sheet1"), districts={})
    assert rows[0].details.name == "张明" and rows[0].details.mobile == "13903791234"


def test_too_many_rows(db, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    rows = [row(mobile=f"139037900{i:02d}", email=f"e{i}@x.cn") for i in range(5)]
    with pytest.raises(importer.ImportRejected) as exc:
        importer.read_rows(xlsx(rows), districts={})
    assert "一次最多导入3行" in str(exc.value.errors[-1]) and exc.value.errors[-1].row == 5


def test_district_staff_import_into_their_district_only(client, db):
    a = make_district(name="洛龙区")
    make_district(name="西工区")
    user = make_user(Role.STAFF, district=a)
    db.session.commit()
    login_as(client, user)
    r = upload(client, xlsx([row(), row(mobile="13903791235", email="b@x.cn", district="西工区")]))
    assert r.status_code == 422 and "只能导入本区（洛龙区）的专家" in r.get_data(as_text=True)
    r = upload(client, xlsx([row(), row(mobile="13903791235", email="b@x.cn", district="洛龙区")]))
    assert r.status_code == 302
    assert {e.district_id for e in db.session.scalars(db.select(Expert))} == {a.id}


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("name,data,message", [
    ("专家名单.xlsx", b"<html><body><script>alert(1)</script></body></html>", "网页或 SVG"),
    ("专家名单.xlsx", None, "压缩炸弹"),
    ("专家名单.xls", b"PK\x03\x04fake", "仅允许上传：Excel（.xlsx）"),
    ("专家名单.csv", "姓名,手机\n张明,13903791234\n".encode(), "仅允许上传：Excel（.xlsx）"),
    ("专家名单.xlsx", b"%PDF-1.4 fake pdf", "文件内容与扩展名 .xlsx 不符"),
    ("专家名单.xlsx", b"", "文件为空"),
])
def test_wrong_files_are_rejected(client, staff, db, name, data, message):
    data = _zip_bomb() if data is None else data
    r = upload(client, data, name=name)
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert _counts(db) == (0, 0)
    assert db.session.scalar(db.select(db.func.count(StoredFile.id))) == 0


def test_no_file_and_no_permission(client, db):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, user)
    r = client.post("/pools/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择要上传的文件" in r.get_data(as_text=True)
    for role in (Role.APPLICANT, Role.EXPERT, Role.FINANCE, Role.EVALUATOR):
        other = make_user(role, org=make_org() if role == Role.APPLICANT else None)
        db.session.commit()
        c = client.application.test_client()
        login_as(c, other)
        assert upload(c, xlsx([row()])).status_code == 403
    assert _counts(db)[0] == 0


def test_uscc_from_a_formula_cell_is_checked_as_text(db):
    code = make_uscc()
    rows = importer.read_rows(xlsx([row(uscc=code)]), districts={})
    assert rows[0].details.employer_uscc == code
    with pytest.raises(importer.ImportRejected):
        importer.read_rows(xlsx([row(uscc="=A1")]), districts={})
