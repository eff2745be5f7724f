"""The staff desk (工作台): one list of what needs doing across every project area.

Each area offers a provider ``desk_items(user) -> list[DeskItem]`` (only what *this* user may act on
or must watch: their district's projects; finance: payments to pay). ``PROVIDERS`` names them as
"module:function"; ``collect(user)`` calls each and sorts overdue first, then by due date.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date

PROVIDERS: tuple[str, ...] = (
    "incubator.projects.services:desk_items",
    "incubator.projects.contracts.services:desk_items",
    "incubator.projects.budgets.services:desk_items",
    "incubator.projects.reports.services:desk_items",
    "incubator.projects.evaluations.services:desk_items",
    "incubator.projects.exits.services:desk_items",
)


@dataclass(frozen=True)
class DeskItem:
    area: str  # the group heading, e.g. "合同签订", "拨付审核", "进度报告"
    title: str  # what to do, e.g. "XM-2026-0001 社区助老服务：合同待签订"
    url: str
    due: date | None = None
    overdue: bool = False
    note: str = ""  # e.g. "逾期3天", "还剩5天"


def _provider(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def collect(user) -> list[DeskItem]:
    items: list[DeskItem] = []
    for path in PROVIDERS:
        items += _provider(path)(user)
    return sorted(items, key=lambda i: (not i.overdue, i.due or date.max, i.area, i.title))
