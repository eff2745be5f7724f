"""The audit log reads in Chinese: every action the code can write has a label (the source is walked),
values show as labels, money, dates and names, with a constant number of queries per page."""
from __future__ import annotations

import ast
import importlib.util
import re
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import event

from incubator.accounts.models import Role
from incubator.admin import audit_labels
from incubator.admin.audit_labels import ACTION_LABELS, ENUM_KEYS, NAME_SOURCES, OBJECT_LABELS, action_label
from incubator.core import audit, states
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_user

SOURCE = Path(__file__).resolve().parents[2] / "incubator"


# --------------------------------------------------------------------------- what the code can write


def _is_audit_record(call: ast.Call, bare_names: set[str]) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr == "record" and isinstance(f.value, ast.Name) and f.value.id == "audit"
    return isinstance(f, ast.Name) and f.id in bare_names


def _literals(node) -> list[str] | None:
    """The strings an expression can be: "a", "a" if x else "b"; None when not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _assigned(function, name: str) -> list[str]:
    out = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            out += _literals(node.value) or []
    return out


def written_actions() -> tuple[dict[str, str], list[str]]:
    """{action: where} for every action an ``audit.record`` call can write, and the call sites
    whose action could not be worked out. A parameter (``audit.record(action, …)`` inside
    ``def set_password(…, action)``) is followed to the literal ``action=`` of every call of that
    function, or to literal assignments of the variable passed there."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(SOURCE.rglob("*.py"))}
    actions: dict[str, str] = {}
    unresolved: list[str] = []
    parameter_sites: list[tuple[str, str, str, list[str]]] = []  # (function, parameter, where, defaults)
    for path, tree in trees.items():
        bare = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "incubator.core.audit"
                for a in n.names if a.name == "record"}
        for function in _functions(tree):
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and _is_audit_record(node, bare) and node.args):
                    continue
                where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
                first = node.args[0]
                found = _literals(first)
                if found is not None:
                    for action in found:
                        actions.setdefault(action, where)
                elif isinstance(first, ast.JoinedStr) and path.name == "states.py" and function.name == "transition":
                    continue  # "<model>.<status>": every TRANSITIONS table, below
                elif isinstance(first, ast.Name):
                    params = function.args.args + function.args.kwonlyargs
                    defaults = dict(zip([a.arg for a in function.args.args][::-1], function.args.defaults[::-1]))
                    defaults |= {a.arg: d for a, d in zip(function.args.kwonlyargs, function.args.kw_defaults) if d is not None}
                    if first.id in {a.arg for a in params}:
                        local = _literals(defaults[first.id]) if first.id in defaults else []
                        parameter_sites.append((function.name, first.id, where, (local or []) + _assigned(function, first.id)))
                    else:
                        assigned = _assigned(function, first.id)
                        for action in assigned:
                            actions.setdefault(action, where)
                        if not assigned:
                            unresolved.append(f"{where}: audit.record({ast.unparse(first)}, …)")
                else:
                    unresolved.append(f"{where}: audit.record({ast.unparse(first)}, …)")
    for name, parameter, where, values in parameter_sites:
        for path, tree in trees.items():
            for function in _functions(tree):
                for node in ast.walk(function):
                    f = node.func if isinstance(node, ast.Call) else None
                    called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                    if called != name:
                        continue
                    for kw in node.keywords:
                        if kw.arg == parameter:
                            found = _literals(kw.value)
                            if found is None and isinstance(kw.value, ast.Name):
                                found = _assigned(function, kw.value.id)
                            if not found:
                                unresolved.append(f"{path.relative_to(SOURCE.parent)}:{node.lineno}: {name}({parameter}={ast.unparse(kw.value)})")
                            values += found or []
        if not values:
            unresolved.append(f"{where}: audit.record({parameter}, …) in {name}() — no caller passes a literal")
        for action in values:
            actions.setdefault(action, f"{where} via {name}({parameter}=…)")
    return actions, unresolved


def transition_actions() -> dict[str, str]:
    """``"<model>.<status>"`` for every status every TRANSITIONS table can move to (core/states.py)."""
    from incubator.db import Base

    out = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        table = cls.__dict__.get("TRANSITIONS")
        if not table:
            continue
        for targets in table.values():
            for to in targets:
                out[f"{cls.__name__.lower()}.{to.value}"] = f"{cls.__module__}:{cls.__name__}.TRANSITIONS"
    return out


def test_the_source_walk_finds_what_it_must(app):
    actions, unresolved = written_actions()
    assert not unresolved, "audit actions the test cannot work out (use a literal):\n" + "\n".join(unresolved)
    # literals, a conditional, a parameter followed to its callers, a variable assigned before the call
    for expected in ("org.credit_added", "file.upload", "user_enabled", "user_disabled", "password_changed",
                     "invitation_accepted", "password_reset", "member_invited", "user_created"):
        assert expected in actions, expected
    transitions = transition_actions()
    for expected in ("organization.verified", "application.submitted", "application.passed", "reviewround.drawn"):
        assert expected in transitions, expected


def test_every_action_the_code_can_write_has_a_label(app):
    actions, _ = written_actions()
    actions |= transition_actions()
    missing = sorted(f"{a}  ({where})" for a, where in actions.items() if a not in ACTION_LABELS)
    assert not missing, "audit actions without a Chinese label in incubator/admin/audit_labels.py:\n" + "\n".join(missing)


def test_labels_are_chinese_and_tell_actions_apart():
    for action, label in ACTION_LABELS.items():
        assert label and not label.isascii(), action
    duplicates = {label for label in ACTION_LABELS.values() if list(ACTION_LABELS.values()).count(label) > 1}
    assert not duplicates, duplicates


def test_unknown_actions_show_as_stored():
    assert action_label("organization.verified") == "组织认证通过"
    assert action_label("something.new") == "something.new"
    assert action_label(None) == ""


def test_every_model_with_a_lifecycle_has_an_object_label(app):
    from incubator.db import Base

    missing = [m.class_.__name__ for m in Base.registry.mappers
               if m.class_.__dict__.get("TRANSITIONS") and m.class_.__name__ not in OBJECT_LABELS]
    assert not missing, missing


def _exists(path: str) -> bool:
    module = path.partition(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_enum_and_name_sources_resolve(app):
    """A renamed enum or model fails here, not silently on the page (a module not in this tree is skipped)."""
    for path in ENUM_KEYS.values():
        if _exists(path):
            enum = audit_labels.resolve(path)
            assert enum is not None and all(getattr(m, "label", None) for m in enum), path
    for model_name, (path, columns) in NAME_SOURCES.items():
        if _exists(path):
            model = audit_labels.resolve(path)
            assert model is not None and model.__name__ == model_name, path
            for column in columns:
                assert hasattr(model, column), (path, column)


# --------------------------------------------------------------------------- how rows read


@pytest.fixture()
def admin_client(client, db):
    admin = make_user(Role.ADMIN, name="管理员甲")
    db.session.commit()
    login_as(client, admin)
    client.admin = admin
    return client


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _page(client, **args) -> str:
    response = client.get("/admin/audit", query_string=args)
    assert response.status_code == 200
    return _text(response.get_data(as_text=True))


def test_a_transition_reads_as_its_label_and_status_labels(admin_client, db):
    from incubator.orgs.models import Verification

    org = make_org(name="洛阳市春晴社工服务中心", status=Verification.PENDING)
    staff = make_user(Role.STAFF, name="王民政")
    states.transition(org, Verification.VERIFIED, by=staff, note="材料齐全")
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    text = _text(html)
    assert "组织认证通过" in text and "状态：待认证 → 已认证" in text
    assert "社会组织 洛阳市春晴社工服务中心" in text
    assert "organization.verified" not in text and '"status"' not in unescape(html) and "pending" not in text
    assert 'title="organization.verified"' in html  # the stored action stays at hand


def test_values_read_as_money_dates_enums_sections_and_names(admin_client, db):
    from incubator.applications.models import Application, ApplicationStatus
    from incubator.core.files import save_generated
    from incubator.orgs import services as orgs
    from incubator.orgs.models import CreditKind
    from tests.screening.helpers import make_call, make_submitted

    district = make_district(name="涧西区")
    org = make_org(district=district, name="洛阳市春晴社工服务中心")
    staff = make_user(Role.STAFF, name="王民政")
    call = make_call(title="2026年公益微创投")
    app_ = make_submitted(org, call)
    audit.record("application.start", app_, after={"call_id": call.id, "org_id": org.id}, actor=staff)
    audit.record("application.version", app_, after={"version": 2, "grant_requested": Decimal("36000.00"),
                                                     "total_budget": Decimal("60000")}, actor=staff)
    audit.record("application.screening", app_, after={"decision": "returned", "reasons": {"budget": "请说明测算依据"},
                                                       "revision_deadline": "2026-12-08"}, actor=staff)
    from datetime import date

    orgs.add_credit_record(org, by=staff, kind=CreditKind.SERIOUS_LIST, reason="严重违法", source="洛民〔2026〕2号",
                           start_on=date(2026, 3, 1))
    stored = save_generated(b"x" * 2048, filename="申报书清单.xlsx", content_type="application/octet-stream", by=staff)
    audit.record("application.attachment_add", app_, after={"slot": "budget", "file_id": stored.id, "name": "预算.xlsx"})
    db.session.commit()
    assert db.session.get(Application, app_.id).status == ApplicationStatus.SUBMITTED
    text = _page(admin_client)
    assert "创建申报书" in text and f"申报书 {app_.number}" in text
    assert "申报批次：2026年公益微创投" in text and "所属组织：洛阳市春晴社工服务中心" in text
    assert "申请资助：¥36,000.00" in text and "项目总预算：¥60,000.00" in text
    assert "审查结论：退回修改" in text and "退回原因：项目预算：请说明测算依据" in text
    assert "修改期限：2026年12月8日" in text
    assert "列入信用记录" in text and "类别：严重违法失信名单" in text and "开始日期：2026年3月1日" in text
    assert "生成文件" in text and "大小：2.0 KB" in text and "文件：申报书清单.xlsx" in text
    assert "serious_list" not in text and "returned" not in text and "36000.00" not in text


def test_names_cost_one_query_per_kind_of_object_whatever_the_rows(admin_client, app, db):
    from tests.screening.helpers import make_call, make_submitted

    staff = make_user(Role.STAFF, name="王民政")

    def add_rows(start, n):
        for i in range(start, start + n):
            district = make_district(name=f"区{i}", code=f"4199{i:02d}")
            org = make_org(district=district, name=f"组织{i}")
            call = make_call(title=f"批次{i}")
            app_ = make_submitted(org, call)
            audit.record("role_changed", staff, before={"district_id": None}, after={"district_id": district.id}, actor=staff)
            audit.record("application.start", app_, after={"call_id": call.id, "org_id": org.id}, actor=staff)
        db.session.commit()

    def count():
        statements = []
        listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            text = _page(admin_client)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements), text

    add_rows(0, 2)
    small, text = count()
    assert "所属区：— → 区1" in text and "申报批次：批次0" in text
    add_rows(2, 20)
    big, text = count()
    assert "所属区：— → 区21" in text and "所属组织：组织21" in text
    assert small == big, (small, big)
