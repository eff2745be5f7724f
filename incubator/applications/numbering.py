"""Application numbers: ``PREFIX-YEAR-NNNN`` (e.g. WCT-2026-0001), one counter row per (prefix, year).

The counter is incremented with ``UPDATE … SET last = last + 1 … RETURNING last``: the UPDATE takes
the row lock, so a concurrent submission waits until this transaction ends and then reads the
incremented value (PostgreSQL READ COMMITTED re-evaluates the row). Two submissions never get the
same number; the unique constraint on ``application.number`` is the last line of defence.
A number is handed out only by a transaction that commits the submission, so a refused or rolled
back submission leaves no gap in practice (its UPDATE is rolled back with it).
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from incubator.applications.models import ApplicationNumberCounter
from incubator.extensions import db


def format_number(prefix: str, year: int, n: int) -> str:
    return f"{prefix}-{year}-{n:04d}"


def next_number(prefix: str, year: int) -> str:
    stmt = (
        update(ApplicationNumberCounter)
        .where(ApplicationNumberCounter.prefix == prefix, ApplicationNumberCounter.year == year)
        .values(last=ApplicationNumberCounter.last + 1)
        .returning(ApplicationNumberCounter.last)
        .execution_options(synchronize_session=False)
    )
    n = db.session.execute(stmt).scalar_one_or_none()
    if n is None:
        # First number of this (prefix, year): create the row; a concurrent creator wins the
        # insert race and we increment its row instead.
        try:
            with db.session.begin_nested():
                db.session.add(ApplicationNumberCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass
        n = db.session.execute(stmt).scalar_one()
    return format_number(prefix, year, n)


def allocate_number(call) -> str:
    """The next number for an application to ``call`` (its kind's prefix and its year)."""
    return next_number(call.number_prefix, call.year)
