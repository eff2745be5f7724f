"""Module-level job functions for the job tests (job functions must be importable by path)."""
from __future__ import annotations

from incubator.core.jobs import report_progress

CALLS: list[tuple] = []
FAIL_TIMES = {"n": 0}


def record_call(job, a, b) -> None:
    CALLS.append(("record_call", job.id, a, b))
    report_progress(job, 50, "一半了")


def plain_task(x) -> None:
    CALLS.append(("plain_task", x))


def fail_in_chinese(job) -> None:
    CALLS.append(("fail_in_chinese", job.id))
    raise ValueError("预算超出上限")


def fail_in_english(job) -> None:
    raise RuntimeError("connection reset by peer at 0xdeadbeef")


def flaky(job) -> None:
    CALLS.append(("flaky", job.id))
    if FAIL_TIMES["n"] > 0:
        FAIL_TIMES["n"] -= 1
        raise RuntimeError("temporary failure")


def reset() -> None:
    CALLS.clear()
    FAIL_TIMES["n"] = 0
