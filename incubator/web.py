"""Request-level glue: login loader, session timeouts, security headers, error pages, filters."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import Flask, g, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from incubator.db import to_local, utcnow
from incubator.extensions import db, login_manager

ERROR_TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "操作冲突",
    413: "文件过大",
    422: "提交的内容有误",
    429: "操作过于频繁",
    500: "系统错误",
    503: "服务暂不可用",
}
ERROR_HINTS = {
    400: "请求格式不正确或页面已过期，请返回上一页刷新后重试。",
    403: "您没有访问此页面的权限。如需开通，请联系管理员。",
    404: "您访问的页面不存在或已被删除，请检查网址。",
    405: "此页面不支持该请求方式。",
    409: "数据已被他人修改或当前状态不允许此操作，请刷新后重试。",
    413: "上传的文件超过大小限制，请压缩后重新上传。",
    422: "提交的内容未通过校验，请修改后重新提交。",
    429: "请求过于频繁，请稍后再试。",
    500: "系统发生错误，已记录。请稍后重试，或联系管理员。",
    503: "数据库暂时无法连接，请稍后重试。",
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class StaticQuietSessionInterface(SecureCookieSessionInterface):
    """Static files never send the session cookie back.

    With a rolling (refreshed) session every response re-sends the cookie it was loaded with; a
    stylesheet request still in flight while the user logs in would then overwrite the new session
    (and its CSRF token) with the old one.
    """

    def should_set_cookie(self, app, session) -> bool:
        if request.path.startswith(STATIC_PREFIXES):
            return False
        return super().should_set_cookie(app, session)


STATIC_PREFIXES = ("/static/", "/bootstrap/")


def init_app(app: Flask) -> None:
    app.session_interface = StaticQuietSessionInterface()
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str):
        from incubator.accounts.models import User

        user_id, _, version = token.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version) or not user.active:
            return None  # revoked: logout elsewhere, password change or disabled account
        # Two-factor roles are only logged in once the second factor has been checked.
        if user.needs_two_factor and not session.get("2fa_ok"):
            return None
        return user

    @app.before_request
    def _session_timeouts():
        if not session.permanent:  # assigning even the same value marks the session modified
            session.permanent = True  # idle timeout = PERMANENT_SESSION_LIFETIME, refreshed each request
        started = session.get("login_at")
        if started is not None:
            limit = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
            if utcnow() - datetime.fromisoformat(started) > limit:
                logout_user()
                session.clear()

    @app.teardown_request
    def _forget_user(_exc):
        # When a caller (a test, a CLI command) holds an app context, Flask reuses it for each
        # request, and with it ``g``: drop the cached user and CSRF token so one request never sees another's.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith(STATIC_PREFIXES):
            h["Cache-Control"] = "no-store"
            h.add("Vary", "Cookie")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if code in (301, 302, 303, 307, 308):
            return exc
        return _error_page(code, getattr(exc, "description", None)), code

    @app.errorhandler(OperationalError)
    def _db_down(exc):
        app.logger.error("database unavailable: %s", exc)
        db.session.rollback()
        return _error_page(503), 503

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http_error(exc)
        app.logger.exception("unhandled error")
        db.session.rollback()
        return _error_page(500), 500

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["cn_date"] = format_date
    app.jinja_env.filters["cn_datetime"] = format_datetime
    app.jinja_env.globals["platform_name"] = app.config["PLATFORM_NAME"]
    app.jinja_env.globals["city_name"] = app.config["CITY_NAME"]

    @app.context_processor
    def _nav():
        from incubator.main.nav import nav_for

        if current_user.is_authenticated:
            return {"nav_items": nav_for(current_user)}
        return {"nav_items": []}


def _error_page(code: int, description: str | None = None) -> str:
    # Werkzeug's default English descriptions are not shown; our own Chinese messages are.
    detail = description if description and not description.isascii() else ERROR_HINTS.get(code, "")
    try:
        return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, "错误"), detail=detail)
    except Exception:  # the template itself needs the database (nav counts): fall back to plain text
        return f"<h1>{code} {ERROR_TITLES.get(code, '错误')}</h1><p>{ERROR_HINTS.get(code, '')}</p>"


def format_money(value: Decimal | int | None, blank: str = "—") -> str:
    """¥12,345.67 — exact, from a Decimal (never a float)."""
    if value is None:
        return blank
    value = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def format_date(value: date | datetime | None, blank: str = "—") -> str:
    if value is None:
        return blank
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime(value: datetime | None, blank: str = "—") -> str:
    """Stored datetimes are naive UTC; people read Beijing time."""
    if value is None:
        return blank
    local = to_local(value)
    return f"{format_date(local)} {local:%H:%M}"
