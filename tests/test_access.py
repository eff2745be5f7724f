"""Every route × method × role against the policy in tests/*/access_policy.py (SECURITY.md, Access)."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.access import DENY, LOGIN, OK, ROLES, Rule, build_world
from tests.conftest import login_as

IGNORED_ENDPOINTS = {"static", "bootstrap.static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _all_rules() -> list[Rule]:
    """Every tests/**/access_policy.py, nested areas (tests/projects/budgets/) included."""
    rules: list[Rule] = []
    root = Path(__file__).parent
    for path in sorted(root.rglob("access_policy.py")):
        module = ".".join(("tests", *path.relative_to(root).with_suffix("").parts))
        rules.extend(importlib.import_module(module).RULES)
    return rules


RULES = _all_rules()


def test_every_route_has_a_policy(app):
    covered = {(r.endpoint, r.method) for r in RULES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an access policy:\n" + "\n".join(missing)


def test_no_policy_for_a_missing_route(app):
    known = {(r.endpoint, m) for r in app.url_map.iter_rules() for m in (r.methods or ())}
    stale = [f"{r.method} {r.endpoint}" for r in RULES if (r.endpoint, r.method) not in known]
    assert not stale, "policies for routes that do not exist: " + ", ".join(stale)


def _outcome(response) -> str:
    code = response.status_code
    if code in (401, 403, 404):
        return DENY
    if code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return LOGIN
    assert code < 500, f"server error {code}"
    return OK


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method}-{r.endpoint}")
def test_route_policy(app, db, rule: Rule):
    world = build_world()
    if rule.setup:
        rule.setup(world)
    db.session.commit()
    url = rule.url(world)
    failures = []
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            login_as(client, world.users[role])
        if rule.method == "GET":
            response = client.get(url)
        else:
            data = rule.data(world) if rule.data else {}
            response = client.open(url, method=rule.method, data=data)
        got, want = _outcome(response), rule.expected(role)
        response.close()  # file downloads hold an open file until their response is closed
        if got != want:
            failures.append(f"{role}: expected {want}, got {got} ({response.status_code})")
        db.session.rollback()
    assert not failures, f"{rule.method} {url}\n" + "\n".join(failures)
