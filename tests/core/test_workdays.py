"""Working days by the Chinese calendar (2026 schedule as published and as in chinese_calendar 1.11)."""
from __future__ import annotations

import datetime as dt

import pytest

from incubator.accounts.models import Role
from incubator.core import audit
from incubator.core.workdays import (
    CalendarError,
    CalendarYear,
    UnknownCalendarYear,
    WorkdayOverride,
    add_override,
    add_workdays,
    define_year,
    delete_override,
    is_workday,
    package_knows,
    undefine_year,
    workdays_between,
    year_days,
)
from tests.factories import make_user

D = dt.date


def test_the_2026_schedule_of_the_package():
    # National Day + Mid-Autumn 2026: 10月1日—7日 off; Sunday 9月20日 and Saturday 10月10日 worked.
    assert all(not is_workday(D(2026, 10, d)) for d in range(1, 8))
    assert is_workday(D(2026, 9, 20)) and D(2026, 9, 20).weekday() == 6
    assert is_workday(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5
    # Spring Festival 2026: 2月15日—23日 off; Saturdays 2月14日 and 2月28日 worked.
    assert all(not is_workday(D(2026, 2, d)) for d in range(15, 24))
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))
    assert not is_workday(D(2026, 2, 21))  # an ordinary Saturday inside the holiday


def test_add_workdays_around_national_day_2026():
    start = D(2026, 9, 30)  # Wednesday
    assert add_workdays(start, 1) == D(2026, 10, 8)
    assert add_workdays(start, 2) == D(2026, 10, 9)
    assert add_workdays(start, 3) == D(2026, 10, 10)  # the adjusted working Saturday counts
    assert add_workdays(start, 4) == D(2026, 10, 12)
    assert add_workdays(start, 5) == D(2026, 10, 13)  # a 公示 of 5 working days


def test_add_workdays_around_spring_festival_2026():
    assert add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)  # Saturday worked
    assert add_workdays(D(2026, 2, 13), 2) == D(2026, 2, 24)
    assert add_workdays(D(2026, 2, 24), 4) == D(2026, 2, 28)  # Wed Thu Fri, then Saturday 28th


def test_start_is_not_counted_and_sign_of_n():
    assert add_workdays(D(2026, 6, 1), 1) == D(2026, 6, 2)  # Monday → Tuesday
    assert add_workdays(D(2026, 6, 1), 0) == D(2026, 6, 1)
    assert add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert add_workdays(D(2026, 10, 12), -2) == D(2026, 10, 9)
    assert add_workdays(dt.datetime(2026, 9, 30, 23, 59), 1) == D(2026, 10, 8)
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == 5


def test_package_range():
    assert package_knows(2026) and not package_knows(2027) and not package_knows(1999)


def test_a_year_the_package_does_not_know_raises_in_chinese():
    with pytest.raises(UnknownCalendarYear) as exc:
        is_workday(D(2027, 3, 1))
    assert "2027年" in str(exc.value) and "工作日历调整" in str(exc.value)
    assert isinstance(exc.value, ValueError)
    # Counting that crosses into 2027 raises too — never a guess.
    with pytest.raises(UnknownCalendarYear):
        add_workdays(D(2026, 12, 28), 5)


def test_admin_definitions_make_an_unknown_year_usable(db):
    admin = make_user(Role.ADMIN)
    with pytest.raises(UnknownCalendarYear):
        add_workdays(D(2026, 12, 31), 1)
    add_override(day=D(2027, 1, 1), is_workday=False, note="元旦", by=admin)
    define_year(2027, by=admin)
    assert add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)  # Fri 1st off, then the weekend
    add_override(day=D(2027, 1, 2), is_workday=True, note="调休上班", by=admin)
    assert add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 2)
    assert not is_workday(D(2027, 1, 3))


def test_overrides_win_over_the_package(db):
    admin = make_user(Role.ADMIN)
    add_override(day=D(2026, 10, 8), is_workday=False, note="临时放假", by=admin)
    assert add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 9)
    add_override(day=D(2026, 10, 3), is_workday=True, note="测试", by=admin)
    assert is_workday(D(2026, 10, 3))


def test_without_an_app_context_the_package_alone_answers():
    from flask import has_app_context

    assert not has_app_context()
    assert add_workdays(D(2026, 9, 30), 3) == D(2026, 10, 10)


def test_calendar_maintenance_is_audited_and_checked(db):
    admin = make_user(Role.ADMIN)
    row = add_override(day=D(2027, 2, 6), is_workday=True, note="春节调休", by=admin)
    with pytest.raises(CalendarError, match="已有调整记录"):
        add_override(day=D(2027, 2, 6), is_workday=False, note="重复", by=admin)
    with pytest.raises(CalendarError, match="范围"):
        add_override(day=D(1999, 1, 1), is_workday=False, note="x", by=admin)
    with pytest.raises(CalendarError, match="内置日历"):
        define_year(2026, by=admin)
    year = define_year(2027, by=admin)
    with pytest.raises(CalendarError, match="已确认"):
        define_year(2027, by=admin)
    delete_override(row, by=admin)
    undefine_year(year, by=admin)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkdayOverride)) == 0
    assert db.session.get(CalendarYear, 2027) is None
    actions = db.session.scalars(db.select(audit.AuditLog.action).order_by(audit.AuditLog.id)).all()
    assert actions == ["workday.override_add", "workday.year_define", "workday.override_delete", "workday.year_undefine"]


def test_year_days_for_the_admin_view(db):
    days = year_days(2026)
    assert len(days) == 365
    assert (D(2026, 10, 10), True, "package") in days
    unknown = year_days(2027)
    assert all(w is None for _, w, _ in unknown)
