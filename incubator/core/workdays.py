"""Chinese working days (DOMAIN: 公示 periods and deadlines count working days).

A day is a working day by, in this order:
1. an admin's ``WorkdayOverride`` for that date (wins over everything);
2. the ``chinese_calendar`` package for the years it knows: weekends and statutory holidays off,
   adjusted working weekends (调休) on;
3. for a year an admin has declared complete (``CalendarYear``): Monday–Friday, plus the
   overrides entered for that year;
otherwise ``UnknownCalendarYear`` is raised — the platform never guesses a holiday schedule.

Outside an app context (no database) only the package is consulted.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from flask import has_app_context
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.db import Base, utcnow
from incubator.extensions import db

# add_workdays never walks further than this many calendar days (a safety net, ~3 years).
MAX_SPAN_DAYS = 1100


class UnknownCalendarYear(ValueError):
    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"{year}年的法定节假日安排尚未录入，无法计算工作日。"
            f"请系统管理员在“工作日历调整”中录入{year}年的放假和调休安排后再试。"
        )


class WorkdayOverride(Base):
    """One date whose working-day status an admin has set (调休上班 or 放假)."""

    __tablename__ = "workday_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    created_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return "调休上班" if self.is_workday else "放假"


class CalendarYear(Base):
    """A year the package does not know, declared complete by an admin (its overrides are all entered)."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(String(200), default="")
    defined_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    defined_by = relationship("User")


@lru_cache(maxsize=None)
def package_knows(year: int) -> bool:
    """Whether chinese_calendar has the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def package_years() -> tuple[int, int]:
    """(first, last) year the installed chinese_calendar covers."""
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


class _Calendar:
    """Answers for one call, loading overrides one year at a time (a query per year touched)."""

    def __init__(self) -> None:
        self.use_db = has_app_context()
        self.years: dict[int, tuple[dict[dt.date, bool], bool]] = {}

    def _year(self, year: int) -> tuple[dict[dt.date, bool], bool]:
        if year not in self.years:
            overrides: dict[dt.date, bool] = {}
            defined = False
            if self.use_db:
                rows = db.session.execute(
                    db.select(WorkdayOverride.date, WorkdayOverride.is_workday).where(
                        WorkdayOverride.date >= dt.date(year, 1, 1), WorkdayOverride.date <= dt.date(year, 12, 31)
                    )
                ).all()
                overrides = {d: bool(w) for d, w in rows}
                defined = db.session.get(CalendarYear, year) is not None
            self.years[year] = (overrides, defined)
        return self.years[year]

    def is_workday(self, d: dt.date) -> bool:
        overrides, defined = self._year(d.year)
        if d in overrides:
            return overrides[d]
        if package_knows(d.year):
            return bool(chinese_calendar.is_workday(d))
        if defined:
            return d.weekday() < 5
        raise UnknownCalendarYear(d.year)


def _as_date(d) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if not isinstance(d, dt.date):
        raise TypeError("expected a datetime.date")
    return d


def is_workday(d: dt.date) -> bool:
    return _Calendar().is_workday(_as_date(d))


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself not counted).

    ``n = 0`` returns ``start``; a negative ``n`` counts backwards (the n-th working day before).
    Raises ``UnknownCalendarYear`` when the count reaches a year nobody has defined.
    """
    start = _as_date(start)
    n = int(n)
    if n == 0:
        return start
    cal = _Calendar()
    step = dt.timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    day = start
    for _ in range(MAX_SPAN_DAYS):
        day += step
        if cal.is_workday(day):
            remaining -= 1
            if remaining == 0:
                return day
    raise ValueError("工作日数过大")


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end] — how many add_workdays steps lie between two dates."""
    start, end = _as_date(start), _as_date(end)
    if end <= start:
        return 0
    cal = _Calendar()
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += cal.is_workday(day)
    return count


def year_days(year: int) -> list[tuple[dt.date, bool | None, str]]:
    """Every day of ``year`` with (date, is working day or None if unknown, source) for the admin view."""
    cal = _Calendar()
    overrides, defined = cal._year(year)
    out = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day in overrides:
            out.append((day, overrides[day], "override"))
        elif package_knows(year):
            out.append((day, bool(chinese_calendar.is_workday(day)), "package"))
        elif defined:
            out.append((day, day.weekday() < 5, "weekday"))
        else:
            out.append((day, None, "unknown"))
        day += dt.timedelta(days=1)
    return out


def holiday_name(d: dt.date) -> str | None:
    """The statutory holiday a date belongs to, from the package (None if unknown or ordinary)."""
    if not package_knows(d.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(d)
    if name is None:
        return None
    return HOLIDAY_NAMES.get(getattr(name, "value", str(name)), None) if on_holiday or d.weekday() >= 5 else None


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


# --- admin maintenance (services: flush, never commit; audited) -------------------------------

MIN_YEAR, MAX_YEAR = 2000, 2100


class CalendarError(ValueError):
    """A refused calendar change; ``str(exc)`` is a Chinese message."""


def get_override(day: dt.date) -> WorkdayOverride | None:
    return db.session.scalar(db.select(WorkdayOverride).where(WorkdayOverride.date == day))


def overrides_in_year(year: int) -> list[WorkdayOverride]:
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            db.select(WorkdayOverride)
            .where(WorkdayOverride.date >= dt.date(year, 1, 1), WorkdayOverride.date <= dt.date(year, 12, 31))
            .options(selectinload(WorkdayOverride.created_by))
            .order_by(WorkdayOverride.date)
        )
    )


def add_override(*, day: dt.date, is_workday: bool, note: str, by) -> WorkdayOverride:
    from incubator.core import audit

    if not (MIN_YEAR <= day.year <= MAX_YEAR):
        raise CalendarError(f"日期超出可调整范围（{MIN_YEAR}—{MAX_YEAR}年）")
    if get_override(day) is not None:
        raise CalendarError(f"{day.year}年{day.month}月{day.day}日已有调整记录，如需修改请先删除原记录")
    row = WorkdayOverride(date=day, is_workday=bool(is_workday), note=(note or "").strip()[:200],
                          created_by_id=getattr(by, "id", None))
    db.session.add(row)
    db.session.flush()
    audit.record("workday.override_add", row, after={"date": day, "is_workday": row.is_workday, "note": row.note}, actor=by)
    return row


def delete_override(row: WorkdayOverride, *, by) -> None:
    from incubator.core import audit

    audit.record("workday.override_delete", row, before={"date": row.date, "is_workday": row.is_workday, "note": row.note}, actor=by)
    db.session.delete(row)
    db.session.flush()


def define_year(year: int, *, by, note: str = "") -> CalendarYear:
    """Declare that every holiday and adjusted working day of ``year`` has been entered."""
    from incubator.core import audit

    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise CalendarError(f"年份超出可调整范围（{MIN_YEAR}—{MAX_YEAR}年）")
    if package_knows(year):
        raise CalendarError(f"{year}年的安排已由内置日历提供，无需确认；个别日期可以单独调整")
    if db.session.get(CalendarYear, year) is not None:
        raise CalendarError(f"{year}年已确认录入完毕")
    row = CalendarYear(year=year, note=(note or "").strip()[:200], defined_by_id=getattr(by, "id", None))
    db.session.add(row)
    db.session.flush()
    audit.record("workday.year_define", row, after={"year": year}, actor=by)
    return row


def undefine_year(row: CalendarYear, *, by) -> None:
    from incubator.core import audit

    audit.record("workday.year_undefine", row, before={"year": row.year}, actor=by)
    db.session.delete(row)
    db.session.flush()
