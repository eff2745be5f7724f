"""Browser harness: the app served from a thread, driven by Debian's Chromium through Playwright.

    @pytest.mark.browser
    def test_something(db, live_server, page):
        user = make_user(Role.STAFF)
        db.session.commit()                 # the server thread sees only committed rows
        login(page, user)                   # the real form, TOTP included
        page.goto("/dashboard")
        assert_no_console_errors(page)

- ``live_server``: a second app on the SAME database and upload folder as the ``app`` fixture (so
  factories + commit set up data), but with CSRF on and TESTING off, like production. Any 500 it
  answers fails the test.
- ``browser`` (session) / ``page`` (per test, fresh cookies, zh-CN, Asia/Shanghai, base_url set:
  ``page.goto("/login")``). A CSP violation or an uncaught JavaScript error fails the test; other
  console errors are checked with ``assert_no_console_errors(page)``.
- On failure a full-page screenshot goes to ``screenshots/<test>.png`` (BROWSER_SCREENSHOT_DIR).
- Never ``playwright install``: Chromium comes from Debian (/usr/bin/chromium, CHROMIUM_PATH).

Browser tests outside tests/browser/ import the fixtures into their module
(``from tests.browser.conftest import browser, live_server, page, login``). pytest then holds one
fixture definition per module; they all share ONE Playwright, browser and live server (two
Playwright instances cannot run in one thread), stopped when the last definition is torn down.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest
from flask import request
from werkzeug.serving import make_server

from incubator import create_app
from incubator.config import ROOT
from incubator.extensions import db as _db
from tests.conftest import test_config as make_test_config
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", ROOT / "screenshots"))
TIMEOUT_MS = 15_000

# Reports CSP violations through the console, where the page fixture collects them (init scripts are
# injected by the browser and are not themselves subject to the page's CSP).
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
                + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@dataclass
class LiveServer:
    url: str
    app: object
    server_errors: list[str] = field(default_factory=list)


class _Shared:
    """A resource shared by every fixture definition that asks for it, stopped with the last one."""

    def __init__(self) -> None:
        self.value = None
        self.users = 0
        self.stop = None

    def acquire(self, start):
        if self.users == 0:
            self.value, self.stop = start()
        self.users += 1
        return self.value

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            stop, self.stop, self.value = self.stop, None, None
            stop()


_live = _Shared()
_chromium = _Shared()


def _start_live_server(app, tmpdir: Path):
    live_app = create_app(
        make_test_config(
            tmpdir / "live",
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            UPLOAD_DIR=app.config["UPLOAD_DIR"],
            TESTING=False,
            WTF_CSRF_ENABLED=True,
        )
    )
    live = LiveServer(url="", app=live_app)

    @live_app.after_request
    def _record_server_errors(response):
        if response.status_code == 500:
            live.server_errors.append(f"{request.method} {request.full_path} → 500")
        return response

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    live.url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = live.url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with live_app.app_context():
            _db.engine.dispose()

    return live, stop


@pytest.fixture(scope="session")
def live_server(app, _tmpdir):
    yield _live.acquire(lambda: _start_live_server(app, _tmpdir))
    _live.release()


def _start_browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except BaseException:
        pw.stop()
        raise

    def stop() -> None:
        chromium.close()
        pw.stop()

    return chromium, stop


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    yield _chromium.acquire(_start_browser)
    _chromium.release()


class ConsoleLog:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.csp: list[str] = []
        self.exceptions: list[str] = []

    def on_console(self, msg) -> None:
        if msg.type != "error":
            return
        text = msg.text
        location = msg.location.get("url", "") if msg.location else ""
        entry = f"{text} ({location})" if location else text
        self.errors.append(entry)
        if text.startswith("CSP violation") or "Content Security Policy" in text:
            self.csp.append(entry)

    def on_page_error(self, exc) -> None:
        self.exceptions.append(str(exc))


_logs: dict[int, ConsoleLog] = {}


def console_log(page) -> ConsoleLog:
    return _logs[id(page)]


def assert_no_console_errors(page) -> None:
    """Every console error counts (failed resource loads, CSP violations, script errors)."""
    log = console_log(page)
    problems = log.errors + log.exceptions
    assert not problems, "console errors:\n" + "\n".join(problems)


def screenshot(page, name: str) -> Path:
    """A full-page PNG under screenshots/ (look at it with an image viewer)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:150]}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture()
def page(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1366, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    tab = context.new_page()
    log = ConsoleLog()
    _logs[id(tab)] = log
    tab.on("console", log.on_console)
    tab.on("pageerror", log.on_page_error)
    errors_before = len(live_server.server_errors)
    failures_before = request.session.testsfailed
    try:
        yield tab
        if request.session.testsfailed > failures_before:  # this test's call phase failed
            path = screenshot(tab, request.node.nodeid)
            print(f"\nscreenshot of the failure: {path}")
        new_server_errors = live_server.server_errors[errors_before:]
        assert not new_server_errors, "the server answered 500:\n" + "\n".join(new_server_errors)
        assert not log.csp, "Content-Security-Policy violations:\n" + "\n".join(log.csp)
        assert not log.exceptions, "uncaught JavaScript errors:\n" + "\n".join(log.exceptions)
    finally:
        _logs.pop(id(tab), None)
        context.close()


# --- logging in through the real form --------------------------------------------------------------

_last_totp_step: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """The current code, waiting for the next 30-second step if this one was already used
    (the server never accepts the same code twice)."""
    totp = pyotp.TOTP(secret)  # 30-second steps
    step = int(time.time() // 30)
    if _last_totp_step.get(secret, -1) >= step:
        time.sleep(30 - time.time() % 30 + 0.5)
        step = int(time.time() // 30)
    _last_totp_step[secret] = step
    return totp.now()


def login(page, user, password: str = PASSWORD) -> str | None:
    """Log ``user`` in through /login, then the second factor for staff, finance and admin: the
    TOTP page when the user has a secret, else the enrolment page (secret read off the page, recovery
    codes acknowledged). Returns the TOTP secret used, if any; fails unless the login worked."""
    from playwright.sync_api import expect

    # Wait for quiet networks before and after: every response re-sends the session cookie, so a
    # request still in flight from an earlier page could overwrite the one holding the CSRF token.
    page.goto("/login")
    page.wait_for_load_state("networkidle")
    page.locator('input[name="identifier"]').fill(user.email)
    page.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        page.locator('form[action$="/login"] button[type="submit"]').click()
    secret = None
    if "/login/setup-2fa" in page.url:
        secret = page.get_by_test_id("totp-secret").inner_text().strip()
        page.locator('input[name="code"]').fill(totp_code(secret))
        with page.expect_navigation():
            page.locator('form[action$="/login/setup-2fa"] button[type="submit"]').click()
        expect(page.get_by_test_id("recovery-codes")).to_be_visible()
        with page.expect_navigation():
            page.get_by_role("link", name="我已保存，继续").click()
    elif "/login/verify" in page.url:
        secret = user.totp_secret
        assert secret, f"{user.email} must enter a TOTP code but has no secret"
        page.locator('input[name="code"]').fill(totp_code(secret))
        with page.expect_navigation():
            page.locator('form[action$="/login/verify"] button[type="submit"]').click()
    assert "/login" not in page.url, f"login of {user.email} failed; still on {page.url}"
    page.wait_for_load_state("networkidle")
    return secret
