"""Public self-registration: happy path, every validation error, SECURITY.md bad inputs."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role, User
from incubator.core.audit import AuditLog
from incubator.orgs.models import Organization, OrgType, Verification
from tests.factories import make_org, make_street, make_user
from tests.orgs.helpers import PASSWORD, make_region, registration_data


@pytest.fixture()
def region(db):
    return make_region()


def post(client, data):
    from incubator.extensions import db

    db.session.commit()  # what the test set up is visible to the request and survives its rollback
    return client.post("/orgs/register", data=data)


def orgs(db):
    return list(db.session.scalars(db.select(Organization)))


def test_form_renders_with_regions(client, region):
    r = client.get("/orgs/register")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "社会组织注册" in html and "翠云路街道" in html and "广利社区" in html
    assert 'optgroup label="洛龙区"' in html  # grouped list: works without JavaScript


def test_happy_path_creates_pending_org_and_org_admin(client, db, region):
    r = post(client, registration_data(*region))
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "/login" in r.headers["Location"]
    org = db.session.scalar(db.select(Organization))
    assert org.status == Verification.PENDING
    assert org.uscc == "52440106MJL001238R" and org.org_type == OrgType.SOCIAL_SERVICE_ORG
    assert org.district_id == region[0].id and org.street_id == region[1].id and org.community_id == region[2].id
    assert sorted(f.value for f in org.fields) == ["elderly", "youth"]
    assert org.has_party_org and org.party_org_note == "独立党支部，党员6名"
    assert org.staff_count == 12 and org.social_worker_count == 5
    user = db.session.scalar(db.select(User))
    assert user.role == Role.APPLICANT and user.org_id == org.id and user.is_org_admin
    assert user.email == "zhouting@yangguang.org.cn" and user.mobile == "13903790002"
    assert PASSWORD not in user.password_hash and user.password_hash
    actions = {a.action for a in db.session.scalars(db.select(AuditLog))}
    assert {"org.registered", "user.created"} <= actions
    with client.session_transaction() as sess:
        flashes = [m for _c, m in sess.get("_flashes", [])]
    assert any("待认证" in m and "认证" in m for m in flashes)


def test_lower_case_uscc_with_spaces_is_stored_upper_case(client, db, region):
    assert post(client, registration_data(*region, uscc="  52440106mjl001238r ")).status_code == 302
    assert db.session.scalar(db.select(Organization.uscc)) == "52440106MJL001238R"


def test_filed_community_org_with_host(client, db, region):
    district, street, community = region
    host = make_org(district=district, name="洛阳市洛龙区枢纽型社会组织服务中心")
    r = post(client, registration_data(
        district, street, community, name="广利社区银龄互助队", org_type="filed_community_org", uscc="IGNORED",
        filing_number="LY410311BA2025001", host_uscc=host.uscc.lower(),
    ))
    assert r.status_code == 302, r.get_data(as_text=True)
    org = db.session.scalar(db.select(Organization).where(Organization.name == "广利社区银龄互助队"))
    assert org.uscc is None and org.filing_number == "LY410311BA2025001" and org.host_org_id == host.id


@pytest.mark.parametrize("host_status", [Verification.PENDING, Verification.REJECTED])
def test_host_must_be_verified(client, db, region, host_status):
    district, street, community = region
    host = make_org(district=district, status=host_status)
    r = post(client, registration_data(district, street, community, org_type="filed_community_org", uscc="",
                                       filing_number="LY1", host_uscc=host.uscc))
    assert r.status_code == 422
    assert "尚未通过认证" in r.get_data(as_text=True)
    assert len(orgs(db)) == 1


# Each bad value → status 422, its Chinese message, and nothing saved.
INVALID = [
    ("name", "", "请填写组织名称"),
    ("org_type", "", "请选择组织类型"),
    ("org_type", "company", "请从列表中选择"),
    ("uscc", "", "请填写统一社会信用代码"),
    ("uscc", "91310110666007217T", "不是民政部门登记的社会组织代码"),
    ("uscc", "52440106MJL001238S", "不使用字母 I、O、S、V、Z"),
    ("uscc", "52440106MJL001239R", "校验位不正确"),
    ("uscc", "53100000500019795A", "与所选组织类型"),  # 53 = 基金会, form says 社会服务机构
    ("street", "0", "请选择街道"),
    ("district", "0", "请选择所在区"),
    ("address", "", "请填写办公地址"),
    ("founded_on", "", "请填写成立日期"),
    ("founded_on", "2026-02-30", "日期不存在"),
    ("founded_on", "2023-13-01", "日期不存在"),
    ("founded_on", "0001-01-01", "不能早于1949年"),
    ("founded_on", "1948-12-31", "不能早于1949年"),
    ("founded_on", "2999-01-01", "不能晚于今天"),
    ("founded_on", "20190520", "日期格式"),
    ("legal_rep", "", "请填写法定代表人"),
    ("contact_name", "", "请填写联系人"),
    ("contact_phone", "12345", "正确的手机号或座机"),
    ("contact_phone", "1390379000", "正确的手机号或座机"),
    ("contact_email", "not-an-email", "邮箱格式不正确"),
    ("fields", [], "请至少选择一个服务领域"),
    ("fields", ["elderly", "casino"], "无效的选项"),
    ("staff_count", "", "请填写专职工作人员数"),
    ("staff_count", "-1", "不能为负数"),
    ("social_worker_count", "13", "不能多于专职工作人员数"),
    ("has_party_org", "maybe", "请从选项中选择"),
    ("member_name", "", "请填写姓名"),
    ("member_email", "", "请填写邮箱"),
    ("member_email", "zhou@", "邮箱格式不正确"),
    ("member_mobile", "23903790002", "11位手机号码"),
    ("password", "short", "至少需要 8 个字符"),
    ("password", "password", "过于常见"),
    ("password_confirm", "something-else-entirely", "两次输入的密码不一致"),
]


@pytest.mark.parametrize("field,value,message", INVALID, ids=[f"{f}={v!r}" for f, v, _ in INVALID])
def test_each_validation_error(client, db, region, field, value, message):
    r = post(client, registration_data(*region, **{field: value}))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in html
    assert orgs(db) == [] and db.session.scalar(db.select(User)) is None


def test_failed_form_keeps_what_was_typed(client, db, region):
    data = registration_data(*region, uscc="91310110666007217T", intro="第一行\n第二行")
    html = post(client, data).get_data(as_text=True)
    for typed in ["洛阳市洛龙区阳光社会工作服务中心", "91310110666007217T", "洛阳市洛龙区翠云路18号", "2019-05-20",
                  "张伟", "13903790001", "contact@yangguang.org.cn", "独立党支部，党员6名", "第一行\n第二行",
                  "zhouting@yangguang.org.cn", "13903790002", "周婷"]:
        assert typed in html, typed
    assert f'value="{region[1].id}" selected' in html or f'selected value="{region[1].id}"' in html
    assert 'value="elderly" checked' in html or 'checked id="fields-0"' in html or "checked" in html
    assert PASSWORD not in html  # passwords are never echoed back


def test_street_of_another_district_is_refused(client, db, region):
    other = make_street(name="西关街道")
    r = post(client, registration_data(region[0], other, None))
    assert r.status_code == 422 and "所选街道不属于所选的区" in r.get_data(as_text=True)


def test_community_of_another_street_is_refused(client, db, region):
    district, street, _ = region
    other_street = make_street(district, name="开元路街道")
    from tests.factories import make_community

    foreign = make_community(other_street)
    r = post(client, registration_data(district, street, foreign))
    assert r.status_code == 422 and "所选社区不属于所选的街道" in r.get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("uscc", "52440106MJL001238R", "该统一社会信用代码已注册"),
    ("name", "已有的组织", "该组织名称已注册"),
    ("member_email", "taken@example.cn", "该邮箱已注册"),
    ("member_email", " TAKEN@Example.CN ", "该邮箱已注册"),
    ("member_email", "ｔａｋｅｎ@example.cn", "该邮箱已注册"),  # full-width letters
    ("member_email", "ta\u200bken@example.cn", "该邮箱已注册"),  # zero-width space
    ("member_mobile", "13903799999", "该手机号已注册"),
    ("member_mobile", "+86 139 0379 9999", "该手机号已注册"),
])
def test_duplicates_are_refused_on_the_field(client, db, region, field, value, message):
    make_org(district=region[0], name="已有的组织", uscc="52440106MJL001238R")
    make_user(Role.APPLICANT, email="taken@example.cn", mobile="13903799999")
    base = registration_data(*region, uscc="52410311MJ00000038" if field != "uscc" else "52440106MJL001238R")
    from incubator.orgs.uscc import make_code

    base["uscc"] = "52440106MJL001238R" if field == "uscc" else make_code("52", "410311", "MJ0000002")
    base[field] = value
    r = post(client, base)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert message in html
    assert len(orgs(db)) == 1


def test_mass_assignment_changes_nothing(client, db, region):
    other_district = make_street().district
    victim = make_org(district=other_district, name="别人的组织")
    data = registration_data(*region)
    data.update({
        "status": "verified", "district_id": str(other_district.id), "org_id": str(victim.id), "is_admin": "1",
        "is_org_admin": "0", "role": "admin", "verified_at": "2020-01-01", "host_org_id": str(victim.id),
        "rejection_reason": "x", "active": "0", "session_version": "99", "id": "999",
    })
    assert post(client, data).status_code == 302
    org = db.session.scalar(db.select(Organization).where(Organization.name == data["name"]))
    assert org.status == Verification.PENDING and org.verified_at is None
    assert org.district_id == region[0].id and org.host_org_id is None and org.id != 999
    user = db.session.scalar(db.select(User).where(User.email == data["member_email"]))
    assert user.role == Role.APPLICANT and user.org_id == org.id and user.is_org_admin and user.active
    assert user.session_version == 0


# ---- SECURITY.md bad inputs ------------------------------------------------------------------


def test_script_in_text_fields_is_stored_as_text_and_escaped(client, db, region, app):
    payload = "<script>alert(1)</script>"
    data = registration_data(*region, name=f"{payload}社工站", legal_rep="<img src=x onerror=alert(1)>",
                             intro=payload, address=f"{payload}路1号")
    assert post(client, data).status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert org.name == f"{payload}社工站"
    staff = make_user(Role.STAFF)
    db.session.commit()
    from tests.conftest import login_as

    login_as(client, staff)
    for url in (f"/orgs/{org.id}", "/orgs/", "/orgs/pending"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("value,message", [
    ("NaN", "格式不正确"), ("Infinity", "格式不正确"), ("1e309", "格式不正确"), ("-0.01", "整数"),
    ("0.001", "整数"), ("1,000.00", "逗号"), ("12345678901234567890", "数值过大"), ("5.5", "整数"), ("abc", "格式不正确"),
])
def test_bad_counts(client, db, region, value, message):
    r = post(client, registration_data(*region, staff_count=value))
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert orgs(db) == []


def test_full_width_count_is_normalised(client, db, region):
    assert post(client, registration_data(*region, staff_count="１２", social_worker_count="３")).status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert (org.staff_count, org.social_worker_count) == (12, 3)


@pytest.mark.parametrize("field,value", [
    ("district", "abc"), ("district", "-1"), ("district", "99999999999"), ("street", "abc"), ("street", "99999999999"),
    ("community", "-1"), ("community", "99999999999"),
])
def test_bad_region_ids(client, db, region, field, value):
    r = post(client, registration_data(*region, **{field: value}))
    assert r.status_code == 422
    assert orgs(db) == []


@pytest.mark.parametrize("password", ["我的密码是洛阳牡丹花开", "🌸🌸🌼🌻🌺🌷🌹🥀", "pässwörd-mit-ümläuten"])
def test_chinese_and_emoji_passwords_are_accepted(client, db, region, password):
    r = post(client, registration_data(*region, password=password, password_confirm=password))
    assert r.status_code == 302
    from incubator.accounts.passwords import verify_password

    user = db.session.scalar(db.select(User))
    assert verify_password(user.password_hash, password)


def test_thousand_character_password_is_refused(client, db, region):
    pw = "a1b2c3d4e5" * 100
    r = post(client, registration_data(*region, password=pw, password_confirm=pw))
    assert r.status_code == 422 and "最多 128 个字符" in r.get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "address", "legal_rep", "intro", "member_name", "password", "uscc", "contact_phone"])
def test_nul_byte_in_any_field_is_refused(client, db, region, field):
    data = registration_data(*region)
    data[field] = data[field] + "\x00x" if field != "password" else PASSWORD + "\x00"
    if field == "password":
        data["password_confirm"] = data["password"]
    r = post(client, data)
    assert r.status_code == 422
    assert orgs(db) == []


def test_newlines_in_names_are_collapsed(client, db, region):
    data = registration_data(*region, name="阳光\r\n社工\n中心", legal_rep="张\r\n伟", member_name="周\r\n婷")
    assert post(client, data).status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert "\n" not in org.name and "\r" not in org.name and org.name == "阳光 社工 中心"
    assert org.legal_rep == "张 伟"
    user = db.session.scalar(db.select(User))
    assert "\n" not in user.name
    for row in db.session.scalars(db.select(AuditLog)):
        assert "\n" not in (row.actor_label or "") and "\r" not in (row.actor_label or "")


def test_ten_megabytes_in_a_text_field(client, db, region):
    r = post(client, registration_data(*region, intro="长" * (10 * 1024 * 1024 // 3)))
    assert r.status_code in (413, 422)
    assert orgs(db) == []


def test_two_thousand_form_fields_multipart_is_refused(client, db, region):
    data = registration_data(*region)
    data.update({f"extra{i}": "x" for i in range(2000)})
    db.session.commit()
    r = client.post("/orgs/register", data=data, content_type="multipart/form-data")
    assert r.status_code == 413
    assert orgs(db) == []


def test_two_thousand_extra_urlencoded_fields_are_inert(client, db, region):
    data = registration_data(*region)
    data.update({f"extra{i}": "x" for i in range(2000)})
    assert post(client, data).status_code == 302
    assert len(orgs(db)) == 1


def test_uscc_check_endpoint(client, db):
    ok = client.get("/orgs/check-uscc?code=52440106mjl001238r").get_json()
    assert ok["ok"] and ok["code"] == "52440106MJL001238R" and ok["category"] == "52 → 民办非企业单位（社会服务机构）"
    enterprise = client.get("/orgs/check-uscc?code=91310110666007217T").get_json()
    assert not enterprise["ok"] and "不是民政部门登记" in enterprise["message"]
    bad = client.get("/orgs/check-uscc?code=52440106MJL00123OR").get_json()
    assert not bad["ok"] and "I、O、S、V、Z" in bad["message"]


def test_region_endpoint(client, db, region):
    district, street, community = region
    assert client.get(f"/orgs/regions.json?district={district.id}").get_json() == {"items": [{"id": street.id, "name": "翠云路街道"}]}
    assert client.get(f"/orgs/regions.json?street={street.id}").get_json() == {"items": [{"id": community.id, "name": "广利社区"}]}
    assert client.get("/orgs/regions.json?district=' OR 1=1--").get_json() == {"items": []}


def test_district_without_streets_needs_no_street(client, db):
    from tests.factories import make_district

    bare = make_district(name="新区", code="410399")
    district, street, _ = make_region()
    data = registration_data(district, street, None, district=str(bare.id), street="0")
    assert post(client, data).status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert org.district_id == bare.id and org.street_id is None
