"""Browser journeys of the foundation (issue 2): real Chromium driving the real app.

1. The acceptance journey: a visitor registers an organisation (a mistake first), district staff
   verify it after logging in with TOTP, the member logs in and sees it 已认证.
2. Rejection: staff reject with a reason, the member corrects and resubmits, it is pending again.
3. Password reset through the dev outbox; the old password stops working.
4. The organisation profile PDF: a job the user watches reach 已完成, then the file (pdftotext).
5. Admin: creates a district staff user (who accepts the invitation and enrols TOTP), changes the
   role (the user's session ends), and the change shows in Chinese in the audit log.

Journeys 3–5 run their background work (mail, PDF) on a real Redis and a real worker process: see
the ``real_worker`` fixture.

Screenshots of the key steps go to /tmp/journeys/ (JOURNEY_SCREENSHOT_DIR) for a person to look at.
Every page opened here is checked for console errors, CSP violations and uncaught exceptions.
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from playwright.sync_api import expect

from incubator.accounts.models import Role, User
from incubator.orgs.models import Organization, OrgType, ServiceField, Verification
from incubator.orgs.uscc import make_code
from incubator.regions.models import Community, District, Street
from incubator.regions.seed import seed_luoyang
from tests.browser.conftest import (
    _CSP_LISTENER,
    TIMEOUT_MS,
    ConsoleLog,
    _logs,
    assert_no_console_errors,
    console_log,
    login,
    screenshot,
)
from tests.factories import PASSWORD, make_org, make_user

pytestmark = pytest.mark.browser

JOURNEYS = Path(os.environ.get("JOURNEY_SCREENSHOT_DIR", "/tmp/journeys"))
ROOT = Path(__file__).resolve().parents[2]
MEMBER_PASSWORD = "洛阳牡丹花开2026"


# --- helpers ------------------------------------------------------------------------------------


def shot(page, name: str) -> Path:
    """A full-page screenshot of a key step, for a person to look at."""
    JOURNEYS.mkdir(parents=True, exist_ok=True)
    path = JOURNEYS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def other_page(browser, live_server):
    """A second person at a second browser (own cookies), checked like the ``page`` fixture."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    tab = context.new_page()
    log = ConsoleLog()
    _logs[id(tab)] = log
    tab.on("console", log.on_console)
    tab.on("pageerror", log.on_page_error)
    try:
        try:
            yield tab
        except BaseException:
            with contextlib.suppress(Exception):
                print(f"\nscreenshot of the second browser: {screenshot(tab, 'second-browser-failure')}")
            raise
        assert not log.csp, "Content-Security-Policy violations:\n" + "\n".join(log.csp)
        assert not log.exceptions, "uncaught JavaScript errors:\n" + "\n".join(log.exceptions)
        assert_no_console_errors(tab)
    finally:
        _logs.pop(id(tab), None)
        context.close()


def forgive_form_status(page, path: str, status: int = 422) -> None:
    """A form that fails validation answers 422 on purpose; Chromium logs that document response as
    a console error. Drop exactly those entries (for ``path``) and keep every other error."""
    log = console_log(page)
    expected = f"the server responded with a status of {status}"
    kept = [e for e in log.errors if not (expected in e and e.rstrip(")").split("?")[0].endswith(path))]
    assert len(kept) < len(log.errors), f"expected a {status} answer for {path}: {log.errors}"
    log.errors[:] = kept


def gb11714(body8: str) -> str:
    """A GB 11714 organisation code (8 characters + check), so the USCC raises no warning."""
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(chars.index(ch) * w for ch, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2]))
    c = 11 - total % 11
    return body8 + ("0" if c == 11 else "X" if c == 10 else str(c))


def wrong_check(code: str) -> str:
    """The same code with another (valid-alphabet) check character."""
    return code[:17] + ("1" if code[17] != "1" else "2")


def staff_of(district: District, **kw) -> User:
    """District staff with TOTP enrolled (they log in with a code, no enrolment page)."""
    return make_user(Role.STAFF, district_id=district.id, totp_secret=pyotp.random_base32(), totp_enabled=True, **kw)


def as_login(email: str):
    """What ``login()`` needs of a user who exists only in the server's database."""
    return SimpleNamespace(email=email, totp_secret=None)


def nav_link(page, label: str):
    return page.locator("nav.sidenav a.nav-link", has_text=label)


def luoyang(db):
    """The seeded 洛阳 regions: (西工区, 金谷园街道, 春晴路社区)."""
    seed_luoyang()
    district = db.session.scalar(db.select(District).where(District.name == "西工区"))
    street = db.session.scalar(db.select(Street).where(Street.name == "金谷园街道"))
    community = db.session.scalar(db.select(Community).where(Community.name == "春晴路社区"))
    return district, street, community


def fill_registration(page, *, name: str, uscc: str, email: str, mobile: str, password: str = MEMBER_PASSWORD) -> None:
    """Fill the whole registration form as a person would (dependent selects included)."""
    page.get_by_label("组织名称").fill(name)
    page.get_by_label("组织类型").select_option(label="民办非企业单位（社会服务机构）")
    page.get_by_label("统一社会信用代码", exact=False).first.fill(uscc)
    page.get_by_label("成立（登记）日期").fill("2019-06-18")
    page.get_by_label("登记管理机关").fill("洛阳市西工区民政局")
    page.get_by_label("法定代表人（负责人）").fill("王秀兰")
    # District → street → community: each list is filled by the page after the choice above it.
    page.get_by_label("所在区").select_option(label="西工区")
    street = page.get_by_label("街道（乡镇）")
    expect(street.locator("option", has_text="金谷园街道")).to_have_count(1)
    expect(street.locator("option", has_text="湖北路街道")).to_have_count(0)  # narrowed to 西工区
    street.select_option(label="金谷园街道")
    community = page.get_by_label("社区（村）")
    expect(community.locator("option", has_text="春晴路社区")).to_have_count(1)
    community.select_option(label="春晴路社区")
    page.get_by_label("办公地址").fill("洛阳市西工区春晴路18号")
    page.get_by_label("联系人").fill("赵敏")
    page.get_by_label("联系电话").fill("0379-63211234")
    page.get_by_label("联系邮箱").fill("office@xiyanghong.org.cn")
    page.get_by_label("养老", exact=True).check()
    page.get_by_label("社区治理", exact=True).check()
    page.get_by_label("专职工作人员数").fill("12")
    page.get_by_label("其中持证社会工作者数").fill("4")
    page.locator("input[name=has_party_org][value='1']").check()
    page.get_by_label("党组织情况说明").fill("2021年成立党支部")
    page.get_by_label("组织简介").fill("为春晴路一带的高龄、独居老人提供助餐、探访和康复服务。")
    page.get_by_label("姓名").fill("赵敏")
    page.get_by_label("登录邮箱").fill(email)
    page.get_by_label("手机号").fill(mobile)
    page.get_by_label(re.compile(r"^密码")).fill(password)
    page.get_by_label("确认密码").fill(password)


def register_organisation(page, *, name: str, uscc: str, email: str, mobile: str) -> None:
    page.goto("/orgs/register")
    fill_registration(page, name=name, uscc=uscc, email=email, mobile=mobile)
    with page.expect_navigation():
        page.get_by_role("button", name="提交注册").click()
    expect(page.locator(".alert-success")).to_contain_text("注册成功")


# --- 1. the acceptance journey ------------------------------------------------------------------


def test_acceptance_register_verify_and_member_sees_verified_profile(db, live_server, page, browser):
    district, _street, _community = luoyang(db)
    other_district = db.session.scalar(db.select(District).where(District.name == "涧西区"))
    staff = staff_of(district, name="李娜")
    staff_elsewhere = staff_of(other_district, name="周强")
    db.session.commit()

    uscc = make_code("52", "410303", gb11714("MJ102938"))
    name = "洛阳市西工区夕阳红养老服务中心"
    email = "zhaomin@xiyanghong.org.cn"

    # A visitor opens the portal and follows 社会组织注册.
    page.goto("/")
    shot(page, "01-home")
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name="社会组织注册").click()
    expect(page.get_by_role("heading", name="社会组织注册")).to_be_visible()

    # First attempt: the check character is wrong. Everything else is right.
    fill_registration(page, name=name, uscc=wrong_check(uscc), email=email, mobile="13903790001")
    shot(page, "02-register-filled")
    with page.expect_navigation():
        page.get_by_role("button", name="提交注册").click()
    uscc_input = page.locator("#uscc")
    expect(uscc_input).to_have_class(re.compile(r"\bis-invalid\b"))
    beside = page.locator(".mb-3", has=page.locator("#uscc")).locator(".invalid-feedback")
    expect(beside).to_be_visible()
    expect(beside).to_have_text("统一社会信用代码校验位不正确，请核对后重新填写")
    expect(page.locator("#error-summary")).to_contain_text("统一社会信用代码")
    # Whatever the visitor typed is still there (the passwords excepted: they are never sent back).
    expect(page.get_by_label("组织名称")).to_have_value(name)
    expect(uscc_input).to_have_value(wrong_check(uscc))
    expect(page.get_by_label("组织类型")).to_have_value(OrgType.SOCIAL_SERVICE_ORG.value)
    expect(page.get_by_label("所在区").locator("option:checked")).to_have_text("西工区")
    expect(page.get_by_label("街道（乡镇）").locator("option:checked")).to_have_text("金谷园街道")
    expect(page.get_by_label("社区（村）").locator("option:checked")).to_have_text("春晴路社区")
    expect(page.get_by_label("成立（登记）日期")).to_have_value("2019-06-18")
    expect(page.get_by_label("法定代表人（负责人）")).to_have_value("王秀兰")
    expect(page.get_by_label("养老", exact=True)).to_be_checked()
    expect(page.get_by_label("社区治理", exact=True)).to_be_checked()
    expect(page.get_by_label("专职工作人员数")).to_have_value("12")
    expect(page.get_by_label("其中持证社会工作者数")).to_have_value("4")
    expect(page.get_by_label("登录邮箱")).to_have_value(email)
    expect(page.get_by_label(re.compile(r"^密码"))).to_have_value("")
    expect(page.locator(".mb-3", has=page.locator("#password")).locator(".form-text")).to_contain_text("请重新输入")
    shot(page, "03-register-error")
    forgive_form_status(page, "/orgs/register")

    # I, O, S, V, Z are not in the alphabet: the page says so while the visitor types.
    uscc_input.fill(uscc[:10] + "O" + uscc[11:])
    expect(page.locator("#uscc-result")).to_contain_text("不使用字母 I、O、S、V、Z")
    # The right code: the page decodes its 民政 category and the server's complaint goes away.
    uscc_input.fill(uscc.lower())
    expect(page.locator("#uscc-result")).to_contain_text("52 → 民办非企业单位（社会服务机构）")
    expect(beside).to_be_hidden()
    page.get_by_label(re.compile(r"^密码")).fill(MEMBER_PASSWORD)
    page.get_by_label("确认密码").fill(MEMBER_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="提交注册").click()
    expect(page.locator(".alert-success")).to_contain_text(f"“{name}”注册成功，当前状态：待认证")
    shot(page, "04-register-success")
    assert_no_console_errors(page)

    org = db.session.scalar(db.select(Organization).where(Organization.name == name))
    assert org is not None and org.status == Verification.PENDING and org.uscc == uscc

    with other_page(browser, live_server) as desk:
        # Staff of another district do not see it.
        login(desk, staff_elsewhere)
        expect(nav_link(desk, "待认证组织").locator(".badge")).to_have_count(0)
        desk.goto("/orgs/pending")
        expect(desk.get_by_text(name)).to_have_count(0)
        desk.context.clear_cookies()

        # The district's staff log in with password and TOTP and find it waiting.
        login(desk, staff)
        pending_link = nav_link(desk, "待认证组织")
        expect(pending_link.locator(".badge")).to_have_text("1")
        shot(desk, "05-staff-dashboard")
        with desk.expect_navigation():
            pending_link.click()
        row = desk.locator("table tbody tr", has_text=name)
        expect(row).to_contain_text("民办非企业单位（社会服务机构）")
        expect(row).to_contain_text(uscc)
        expect(row).to_contain_text("西工区 · 金谷园街道")
        shot(desk, "06-staff-pending")
        with desk.expect_navigation():
            row.get_by_role("link", name="审核").click()
        expect(desk.locator("h1")).to_contain_text(name)
        expect(desk.locator("h1 .status-pill")).to_have_text("待认证")
        expect(desk.locator("body")).to_contain_text("王秀兰")
        shot(desk, "07-staff-detail")

        messages = []

        def accept(dialog):
            messages.append(dialog.message)
            dialog.accept()

        desk.on("dialog", accept)
        with desk.expect_navigation():
            desk.get_by_role("button", name="认证通过").click()
        assert messages == [f"确定认证通过“{name}”？"]
        expect(desk.locator(".alert-success")).to_contain_text(f"已认证通过：{name}")
        expect(desk.locator("h1 .status-pill")).to_have_text("已认证")
        expect(nav_link(desk, "待认证组织").locator(".badge")).to_have_count(0)
        shot(desk, "08-staff-verified")

    # The member logs in with the account made at registration and sees the verified profile.
    page.context.clear_cookies()
    login(page, as_login(email), MEMBER_PASSWORD)
    with page.expect_navigation():
        nav_link(page, "本组织信息").click()
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("h1 .status-pill")).to_have_text("已认证")
    expect(page.get_by_test_id("next-steps")).to_contain_text("当前状态：已认证")
    expect(page.locator("body")).to_contain_text(uscc)
    expect(page.locator("body")).to_contain_text("春晴路社区")
    expect(page.locator(".field-tag")).to_have_text(["养老", "社区治理"])
    shot(page, "09-member-profile")
    assert_no_console_errors(page)


# --- 2. rejection, correction, resubmission -----------------------------------------------------


def test_rejected_registration_is_corrected_and_back_in_the_pending_list(db, live_server, page, browser):
    district, street, community = luoyang(db)
    staff = staff_of(district, name="李娜")
    org = make_org(
        name="洛阳市西工区春晴助残服务社", district=district, street=street, community=community,
        uscc=make_code("52", "410303", gb11714("MJ556677")), legal_rep="张三", status=Verification.PENDING,
        fields=[ServiceField.DISABILITY],
    )
    member = make_user(Role.APPLICANT, name="陈静", org_id=org.id, is_org_admin=True)
    db.session.commit()
    reason = "登记证书上的法定代表人为王秀兰，与填写的“张三”不一致，请更正后重新提交。"

    with other_page(browser, live_server) as desk:
        login(desk, staff)
        desk.goto("/orgs/pending")
        with desk.expect_navigation():
            desk.locator("tr", has_text=org.name).get_by_role("link", name="审核").click()
        desk.on("dialog", lambda d: d.accept())
        # Rejecting without a reason is refused beside the field.
        desk.get_by_text("驳回…").click()
        with desk.expect_navigation():
            desk.get_by_role("button", name="驳回", exact=True).click()
        expect(desk.locator(".invalid-feedback")).to_have_text("请填写驳回原因，组织将看到此说明")
        forgive_form_status(desk, f"/orgs/{org.id}/reject")
        desk.get_by_label("驳回原因").fill(reason)
        shot(desk, "10-staff-reject")
        with desk.expect_navigation():
            desk.get_by_role("button", name="驳回", exact=True).click()
        expect(desk.locator(".alert-warning")).to_contain_text(f"已驳回：{org.name}")
        expect(desk.locator("h1 .status-pill")).to_have_text("已驳回")
        expect(desk.locator(".alert-danger")).to_contain_text(reason)
        expect(nav_link(desk, "待认证组织").locator(".badge")).to_have_count(0)
        shot(desk, "11-staff-rejected")

        # The member sees why, corrects the legal representative and resubmits.
        login(page, member)
        with page.expect_navigation():
            nav_link(page, "本组织信息").click()
        steps = page.get_by_test_id("next-steps")
        expect(steps).to_contain_text("当前状态：已驳回")
        expect(steps).to_contain_text(f"驳回原因：{reason}")
        shot(page, "12-member-rejected")
        with page.expect_navigation():
            page.get_by_role("link", name="修改并重新提交").click()
        expect(page.get_by_label("组织名称")).to_have_value(org.name)  # the form starts from what was filed
        expect(page.get_by_label("所在区").locator("option:checked")).to_have_text("西工区")
        expect(page.get_by_label("街道（乡镇）").locator("option:checked")).to_have_text("金谷园街道")
        expect(page.get_by_label("助残", exact=True)).to_be_checked()
        page.get_by_label("法定代表人（负责人）").fill("王秀兰")
        shot(page, "13-member-resubmit")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("重新提交")).click()
        expect(page.locator(".alert-success")).to_contain_text("已重新提交认证，请等待民政工作人员审核")
        expect(page.locator("h1 .status-pill")).to_have_text("待认证")
        expect(page.get_by_test_id("next-steps")).to_contain_text("当前状态：待认证")
        shot(page, "14-member-resubmitted")
        assert_no_console_errors(page)

        # Back in the staff's list, with the correction and the whole history.
        desk.goto("/orgs/pending")
        expect(nav_link(desk, "待认证组织").locator(".badge")).to_have_text("1")
        row = desk.locator("table tbody tr", has_text=org.name)
        expect(row).to_have_count(1)
        with desk.expect_navigation():
            row.get_by_role("link", name="审核").click()
        expect(desk.locator("h1 .status-pill")).to_have_text("待认证")
        expect(desk.locator(".org-detail")).to_contain_text("王秀兰")
        timeline = desk.locator(".card", has=desk.locator(".card-header", has_text="认证记录"))
        expect(timeline).to_contain_text("驳回")
        expect(timeline).to_contain_text(reason)
        shot(desk, "15-staff-pending-again")

    db.session.expire_all()
    assert db.session.get(Organization, org.id).legal_rep == "王秀兰"


# --- background jobs: a real Redis and a real worker --------------------------------------------


@pytest.fixture(scope="module")
def real_worker(live_server, app, tmp_path_factory):
    """Points the live server at a REAL Redis with a REAL RQ worker process, so the journeys below
    take the path production takes: the web request commits a Job row, the after-commit hook pushes
    it to Redis, ``flask --app incubator worker`` (another process, its own app) renders and stores
    the file and commits progress, and the page polls the status URL until it is done.

    - ``make test`` exports TEST_REDIS_URL and runs a worker on the suite's database and upload
      folder: that one is used (``scripts/test.sh``).
    - Otherwise a throwaway ``redis-server`` (STACK.md: installed by the set-up) is started on a free
      loopback port. If no worker listens on the queue, one is started for the test database.
    An in-process fakeredis + SimpleWorker would skip the very parts these journeys are here to
    prove (the queue between processes, the worker's own app, the file through the upload folder).
    """
    import shutil
    import socket

    from redis import Redis
    from rq import Queue, Worker

    started: list[subprocess.Popen] = []
    logs = []
    tmp = tmp_path_factory.mktemp("real-worker")
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if not shutil.which("redis-server"):
            pytest.skip("no TEST_REDIS_URL and no redis-server (the set-up installs redis-server)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        ))
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while True:
            try:
                Redis.from_url(url).ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
    conn = Redis.from_url(url)
    queue_name = live_server.app.config["RQ_QUEUE"]
    if not Worker.all(queue=Queue(queue_name, connection=conn)):
        env = {
            **os.environ,
            "INCUBATOR_ENV": "test",
            "SECRET_KEY": "browser-journeys",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "INSTANCE_DIR": str(tmp / "instance"),
            "REDIS_URL": url,
            "RQ_QUEUE": queue_name,
        }
        log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "incubator", "worker", "--name", f"journeys-{uuid.uuid4().hex[:8]}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        started.append(worker)
        deadline = time.monotonic() + 60
        while not Worker.all(queue=Queue(queue_name, connection=conn)):
            assert worker.poll() is None, (tmp / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)

    live = live_server.app
    saved_url, saved_conn = live.config["REDIS_URL"], live.extensions.pop("incubator_redis", None)
    live.config["REDIS_URL"] = url
    yield SimpleNamespace(url=url, log=tmp / "worker.log")
    live.config["REDIS_URL"] = saved_url
    live.extensions.pop("incubator_redis", None)
    if saved_conn is not None:
        live.extensions["incubator_redis"] = saved_conn
    for proc in reversed(started):
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for log in logs:
        log.close()
    conn.close()


# --- 3. password reset through the dev outbox ---------------------------------------------------


def test_password_reset_through_the_dev_outbox(db, live_server, page, browser, real_worker):
    district, _street, _community = luoyang(db)
    org = make_org(name="洛阳市西工区金谷园青少年成长服务中心", district=district)
    member = make_user(Role.APPLICANT, name="刘洋", email="liuyang@jinguyuan.org.cn", org_id=org.id, is_org_admin=True)
    admin = make_user(Role.ADMIN, name="系统管理员", totp_secret=pyotp.random_base32(), totp_enabled=True)
    db.session.commit()
    new_password = "金谷园的新密码2026"

    page.goto("/login")
    with page.expect_navigation():
        page.get_by_role("link", name="忘记密码？").click()
    expect(page.get_by_role("heading", name="找回密码")).to_be_visible()
    page.get_by_label("注册邮箱").fill("LiuYang@JinGuYuan.org.cn ")  # as people type it
    with page.expect_navigation():
        page.get_by_role("button", name="发送重置链接").click()
    expect(page.locator(".alert-info")).to_contain_text("如果该邮箱已注册，重置链接已发送到该邮箱，请在 15 分钟内使用。")
    shot(page, "16-forgot-password-sent")

    # In development and test the mail lands in the outbox page (admins only in test).
    with other_page(browser, live_server) as desk:
        login(desk, admin)
        mail = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the worker delivers it (outbox transport)
            desk.goto("/dev/outbox")
            mail = desk.get_by_test_id("outbox-mail").filter(has_text=member.email)
            if mail.count() and "已发送" in mail.first.inner_text():
                break
            time.sleep(0.5)
        expect(mail).to_have_count(1)
        expect(mail).to_contain_text("已发送")
        expect(mail).to_contain_text("重置")
        link = mail.locator("a[href*='/password/reset/']").get_attribute("href")
        shot(desk, "17-outbox")
    assert link.startswith(live_server.url + "/password/reset/")

    page.goto(link)
    expect(page.get_by_role("heading", name="重置密码")).to_be_visible()
    expect(page.locator("body")).to_contain_text(f"账号：{member.email}")
    page.get_by_label(re.compile(r"^新密码")).fill(new_password)
    page.get_by_label("再次输入新密码").fill(new_password)
    shot(page, "18-reset-form")
    with page.expect_navigation():
        page.get_by_role("button", name="保存密码").click()
    expect(page.locator(".alert-success")).to_contain_text("密码已重置，请使用新密码登录。")

    # The link is single-use.
    page.goto(link)
    expect(page.locator("body")).to_contain_text("链接")
    forgive_form_status(page, link.removeprefix(live_server.url), status=404)
    shot(page, "19-reset-link-used")

    # The old password no longer works; the new one does.
    page.goto("/login")
    page.get_by_label("邮箱或手机号").fill(member.email)
    page.get_by_label("密码", exact=False).fill(PASSWORD)
    with page.expect_navigation():
        page.locator('form[action$="/login"] button[type="submit"]').click()
    expect(page.locator("main")).to_contain_text('账号或密码错误')
    assert "/login" in page.url
    forgive_form_status(page, "/login")
    shot(page, "20-old-password-refused")
    login(page, member, new_password)
    expect(page.get_by_test_id("current-user")).to_contain_text("刘洋")
    assert_no_console_errors(page)


# --- 4. the organisation profile PDF, rendered by the worker -------------------------------------


def test_org_profile_pdf_job_progress_and_download(db, live_server, page, real_worker, tmp_path):
    district, street, community = luoyang(db)
    staff = staff_of(district, name="李娜")
    uscc = make_code("52", "410303", gb11714("MJ778899"))
    org = make_org(
        name="洛阳市西工区春晴路社区养老服务中心", district=district, street=street, community=community, uscc=uscc,
        legal_rep="王秀兰", fields=[ServiceField.ELDERLY, ServiceField.COMMUNITY_GOVERNANCE], founded_on=date(2019, 6, 18),
    )
    db.session.commit()

    login(page, staff)
    page.goto(f"/orgs/{org.id}")
    with page.expect_navigation():
        page.get_by_role("button", name="生成信息登记表（PDF）").click()
    assert re.search(r"/jobs/\d+$", page.url), page.url
    expect(page.locator(".alert-info")).to_contain_text("正在生成《社会组织信息登记表》")
    shot(page, "21-job-started")
    # The page polls the status URL every second until the worker has finished.
    status = page.get_by_test_id("job-status")
    expect(status).to_have_text("已完成", timeout=90_000)
    expect(page.locator("progress.job-progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-role=percent]")).to_have_text("100%")
    # Once done, the page reloads itself: the details are filled in and the flash is gone.
    expect(page.locator("[data-role=finished-at]")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$"))
    expect(page.locator(".alert-info")).to_have_count(0)
    expect(status).to_have_text("已完成")
    expect(page.get_by_text("本页每秒自动刷新任务进度")).to_have_count(0)  # it no longer does
    download_link = page.get_by_test_id("job-download")
    expect(download_link).to_be_visible()
    expect(page.get_by_test_id("queue-down")).to_have_count(0)
    shot(page, "22-job-finished")

    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == f"社会组织信息登记表-{org.name}.pdf"
    pdf = tmp_path / "profile.pdf"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    JOURNEYS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(JOURNEYS / "23-profile-pdf")],
                   check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for expected in ("社会组织信息登记表", org.name, uscc, "民办非企业单位", "西工区", "金谷园街道",
                     "春晴路社区", "王秀兰", "2019年6月18日", "养老、社区治理", "已认证"):
        assert expected in flat, f"{expected!r} missing from the PDF:\n{text}"
    assert_no_console_errors(page)


# --- 5. admin: users, roles and the audit log ---------------------------------------------------


def test_admin_creates_district_staff_and_the_role_change_is_audited(db, live_server, page, browser, real_worker):
    luoyang(db)
    admin = make_user(Role.ADMIN, name="孟凡", totp_secret=pyotp.random_base32(), totp_enabled=True)
    db.session.commit()
    email = "sunlei@jianxi.gov.cn"

    login(page, admin)
    with page.expect_navigation():
        nav_link(page, "用户与角色").click()
    with page.expect_navigation():
        page.get_by_role("link", name="新建用户").click()
    page.get_by_label("姓名").fill("孙磊")
    page.get_by_label(re.compile(r"^邮箱")).fill(email)
    page.get_by_label("手机号").fill("13837901234")
    page.get_by_label("角色").select_option(label="民政工作人员")
    district = page.get_by_label("所属区（工作人员）")
    expect(district).to_be_visible()  # shown for staff only
    district.select_option(label="涧西区")
    shot(page, "24-admin-new-user")
    with page.expect_navigation():
        page.get_by_role("button", name="创建并发送邀请").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已创建用户 孙磊，设置密码的链接已发送到 {email}。")
    expect(page.locator("h1")).to_contain_text("编辑用户：孙磊")
    expect(page.get_by_label("角色").locator("option:checked")).to_have_text("民政工作人员")
    shot(page, "25-admin-user-created")
    new_user = db.session.scalar(db.select(User).where(User.email == email))
    assert new_user is not None and new_user.role == Role.STAFF and new_user.district.name == "涧西区"

    # The new colleague follows the invitation from the outbox, sets a password, enrols TOTP, is in.
    mail = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.goto("/dev/outbox")
        mail = page.get_by_test_id("outbox-mail").filter(has_text=email)
        if mail.count():
            break
        time.sleep(0.5)
    link = mail.locator("a[href*='/password/reset/']").get_attribute("href")
    with other_page(browser, live_server) as colleague:
        colleague.goto(link)
        expect(colleague.get_by_role("heading", name="设置登录密码")).to_be_visible()
        password = "涧西区民政局孙磊的登录密码"  # staff: at least 12 characters
        colleague.get_by_label(re.compile(r"^新密码")).fill(password)
        colleague.get_by_label("再次输入新密码").fill(password)
        with colleague.expect_navigation():
            colleague.get_by_role("button", name="保存密码").click()
        expect(colleague.locator(".alert-success")).to_contain_text("密码已设置，请使用新密码登录。")
        login(colleague, new_user, password)  # first login: the TOTP enrolment page
        expect(colleague.get_by_test_id("current-user")).to_contain_text("涧西区")
        shot(colleague, "26-new-staff-in")

        # The admin changes the role: the colleague's session ends.
        page.goto(f"/admin/users/{new_user.id}")
        page.get_by_label("角色").select_option(label="财务人员")
        with page.expect_navigation():
            page.get_by_role("button", name="保存").click()
        expect(page.locator(".alert-success")).to_contain_text("角色与范围已保存，该用户需重新登录。")
        colleague.goto("/dashboard")
        assert "/login" in colleague.url

    with page.expect_navigation():
        nav_link(page, "审计日志").click()
    rows = page.get_by_test_id("audit").locator("tbody tr")
    change = rows.filter(has_text="修改角色")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("孟凡")
    expect(change).to_contain_text("孙磊")
    expect(change).to_contain_text("民政工作人员")
    expect(change).to_contain_text("财务人员")
    expect(rows.filter(has_text="创建用户")).to_have_count(1)
    shot(page, "27-audit-log")
    assert_no_console_errors(page)
