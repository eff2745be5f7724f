"""Staff list benchmark (资格审查): 20,000 applications, the list page's server time and query count.

    .venv/bin/python benchmarks/staff_list.py [--apps N] [--orgs M] [--repeat R]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5433/bench .venv/bin/python benchmarks/staff_list.py

Seeds a fresh temporary SQLite database (and, when BENCH_DATABASE_URL is set, that PostgreSQL
database too: its tables are DROPPED and recreated, give it a throwaway one) with bulk inserts:
12 districts, ~2,000 organisations (fields, annual reports, a few on credit lists, a few not yet
verified), 4 calls (one district call with its own rules) and 20,000 applications in every
screening state with their submitted versions.

Then, for an admin and for a district staff member, it requests ``/staff/applications/`` through
the Flask test client (the whole request: login check, nav counts, filters, the page's queries,
eligibility flags of every row, template) — unfiltered, the default queue, filtered, searched and
sorted, at page sizes 20 and 100 — and reports the median and p95 server time and the number of
SQL statements per request. The baseline, measured in the same run on the same database, is one
hand-written SQL query returning the same rows (checked: same ids, same order); the ratio is page
median / baseline median. The query count must not grow with the page size (the script fails if
it does).
"""
from __future__ import annotations

import argparse
import calendar
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from incubator import create_app  # noqa: E402
from incubator.extensions import db  # noqa: E402

SEED = 20260601
FIELDS = ["elderly", "childcare", "disability", "youth", "employment", "health", "culture_sports",
          "community_governance", "relief", "environment", "other"]
STATUS_MIX = [("submitted", 55), ("resubmitted", 8), ("returned", 7), ("passed", 20), ("rejected", 6), ("withdrawn", 4)]
ORG_WORDS = ["阳光", "夕阳红", "青禾", "益童", "康乐", "邻里", "银发", "彩虹", "春晖", "同心", "启明", "惠民", "暖心", "乐龄", "新苗"]
ORG_KINDS = ["社会工作服务中心", "养老服务中心", "志愿者协会", "助残服务社", "青少年发展中心", "公益服务社"]
TITLE_WORDS = ["独居老人关爱", "青少年成长营", "社区托育驿站", "残疾人居家康复", "邻里互助", "垃圾分类宣传", "困境儿童陪伴",
               "老年助餐", "社区议事协商", "就业技能培训", "心理健康支持", "文化进社区"]


# --------------------------------------------------------------------------- the app and the data


def make_app(url: str, tmp: Path):
    return create_app({
        "ENV_NAME": "test", "TESTING": True, "SECRET_KEY": "benchmark", "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(tmp / "uploads"), "INSTANCE_DIR": str(tmp / "instance"), "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "REDIS_URL": "fakeredis://", "SERVER_NAME": None,
    })


def seed(n_apps: int, n_orgs: int) -> dict:
    """Bulk inserts (executemany through SQLAlchemy Core); returns ids the scenarios need."""
    from incubator.accounts.models import Role, User
    from incubator.applications.models import Application, ApplicationVersion
    from incubator.calls.models import Call
    from incubator.db import utcnow
    from incubator.orgs.models import AnnualReport, CreditRecord, OrgField, Organization
    from incubator.orgs.uscc import make_code
    from incubator.regions.models import District

    rnd = random.Random(SEED)
    now = utcnow()
    today = now.date()
    conn = db.session.connection()

    districts = [{"id": i + 1, "code": f"4103{i + 2:02d}", "name": n} for i, n in enumerate(
        ["老城区", "西工区", "瀍河回族区", "涧西区", "偃师区", "孟津区", "洛龙区", "新安县", "栾川县", "嵩县", "汝阳县", "宜阳县"])]
    conn.execute(insert(District), districts)

    orgs, org_fields, reports, credits = [], [], [], []
    for i in range(1, n_orgs + 1):
        district = districts[min(int(rnd.expovariate(0.35)), len(districts) - 1)]  # busy city districts first
        name = f"洛阳市{district['name']}{rnd.choice(ORG_WORDS)}{rnd.choice(ORG_KINDS)}{i:04d}"
        orgs.append({
            "id": i, "name": name, "org_type": rnd.choice(["social_service_org"] * 6 + ["social_group"] * 3 + ["foundation"]),
            "uscc": make_code("52", district["code"], f"MJ{i:07d}"), "district_id": district["id"], "address": "洛阳市",
            "founded_on": date(rnd.randint(2005, 2024), rnd.randint(1, 12), rnd.randint(1, 28)), "legal_rep": "张三",
            "contact_name": "李四", "contact_phone": "13800000000",
            "status": "verified" if rnd.random() > 0.02 else "pending", "staff_count": rnd.randint(1, 40),
            "social_worker_count": rnd.randint(0, 10), "version_id": 1,
        })
        for f in rnd.sample(FIELDS, rnd.randint(1, 3)):
            org_fields.append({"org_id": i, "field": f})
        for year in (today.year - 2, today.year - 1):
            if rnd.random() < 0.93:
                reports.append({"org_id": i, "year": year, "result": "pass" if rnd.random() > 0.03 else "fail"})
        if rnd.random() < 0.03:
            credits.append({"org_id": i, "kind": rnd.choice(["abnormal_list", "serious_list", "debarment"]), "reason": "基准测试",
                            "source": "洛民〔2026〕1号", "start_on": today - timedelta(days=rnd.randint(1, 400)),
                            "end_on": None if rnd.random() < 0.7 else today - timedelta(days=1)})
    conn.execute(insert(Organization), orgs)
    conn.execute(insert(OrgField), org_fields)
    conn.execute(insert(AnnualReport), reports)
    if credits:
        conn.execute(insert(CreditRecord), credits)

    calls = []
    for i, (kind, title, district_id, rules) in enumerate([
        ("micro_venture", "2026年洛阳市公益微创投大赛项目申报", None, {}),
        ("purchase", "2026年洛阳市政府购买社会组织服务项目", None, {"min_years_since_founding": 2}),
        ("micro_venture", "2026年洛龙区社区公益微创投", 7, {"district_orgs_only": True, "allowed_org_types": ["social_service_org"]}),
        ("incubation", "2026年洛阳市社会组织孵化基地入驻申请", None, {"require_annual_report_pass": False}),
    ], start=1):
        calls.append({
            "id": i, "kind": kind, "year": 2026, "title": title, "notice": "通知正文", "district_id": district_id,
            "published_at": now - timedelta(days=60), "opens_at": now - timedelta(days=50), "closes_at": now - timedelta(days=5),
            "fund_pool": Decimal("5000000.00"), "grant_min": Decimal("10000.00"), "grant_max": Decimal("200000.00"),
            "max_grant_share": Decimal("60"), "max_applications_per_org": 20, "allowed_org_types": rules.get("allowed_org_types", []),
            "min_years_since_founding": rules.get("min_years_since_founding", 0),
            "require_annual_report_pass": rules.get("require_annual_report_pass", True),
            "district_orgs_only": rules.get("district_orgs_only", False), "themes": [], "version_id": 1,
        })
    conn.execute(insert(Call), calls)

    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    prefixes = {"micro_venture": "WCT", "purchase": "GM", "incubation": "FH"}
    counters: dict[str, int] = {}
    apps, versions = [], []
    for i in range(1, n_apps + 1):
        call = calls[rnd.choices(range(4), weights=[45, 30, 15, 10])[0]]
        org = orgs[rnd.randrange(n_orgs)]
        prefix = prefixes[call["kind"]]
        counters[prefix] = counters.get(prefix, 0) + 1
        status = rnd.choice(statuses)
        grant = Decimal(rnd.randint(1000, 20000) * 10)
        matching = (grant * Decimal(rnd.choice([0.7, 0.8, 1.0, 1.2]))).quantize(Decimal("0.01"))
        first = now - timedelta(minutes=rnd.randint(60, 60 * 24 * 40))
        last = first + timedelta(days=rnd.randint(1, 8)) if status in ("resubmitted", "returned") else first
        apps.append({
            "id": i, "org_id": org["id"], "call_id": call["id"], "number": f"{prefix}-2026-{counters[prefix]:05d}", "status": status,
            "title": f"{rnd.choice(TITLE_WORDS)}{rnd.choice(['服务', '行动', '计划', '项目'])}（{i}）", "field": rnd.choice(FIELDS),
            "service_communities": "", "beneficiaries_description": "", "supervisor": "", "requester": "", "summary": "",
            "need_analysis": "辖区老龄化率高，" * 20, "overall_goal": "", "sub_goals": [], "risks": "", "extra_values": {},
            "bank_account_name": "", "bank_name": "", "bank_account_number": "", "raw_inputs": {},
            "return_reasons": {"budget": "请说明测算依据"} if status in ("returned", "resubmitted") else {},
            "revision_deadline": today + timedelta(days=5) if status == "returned" else None,
            "grant_requested": grant, "matching_amount": matching, "total_budget": grant + matching,
            "submitted_at": first, "last_submitted_at": last, "withdrawn_at": last if status == "withdrawn" else None,
            "version_id": 2,
        })
        versions.append({"application_id": i, "number": 1, "status": "submitted", "data": {"basic": {"title": apps[-1]["title"]}},
                         "submitted_at": first})
        if status == "resubmitted":
            versions.append({"application_id": i, "number": 2, "status": "resubmitted",
                             "data": {"basic": {"title": apps[-1]["title"]}}, "submitted_at": last})
    for chunk in range(0, len(apps), 5000):
        conn.execute(insert(Application), apps[chunk:chunk + 5000])
    for chunk in range(0, len(versions), 5000):
        conn.execute(insert(ApplicationVersion), versions[chunk:chunk + 5000])

    busiest = districts[0]["id"]
    admin = User(email="bench-admin@example.cn", name="基准管理员", password_hash="x", role=Role.ADMIN, active=True)
    staff = User(email="bench-staff@example.cn", name="基准区级工作人员", password_hash="x", role=Role.STAFF, active=True,
                 district_id=busiest)
    db.session.add_all([admin, staff])
    db.session.commit()
    return {"admin": admin.id, "staff": staff.id, "district": busiest, "call": 1, "org_word": "阳光"}


# --------------------------------------------------------------------------- measuring


def login(client, user) -> None:
    """As the test suite does: put the user in the session (the login form is not what we measure)."""
    from flask_login.utils import _create_identifier

    from incubator.db import utcnow

    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess.update({"_id": identifier, "_user_id": user.get_id(), "_fresh": True, "2fa_ok": True,
                     "login_at": utcnow().isoformat()})


@contextmanager
def counting(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``repeat`` calls after two warm-up calls."""
    fn()
    fn()  # warm: compiled statement cache, templates, calendar
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def _ids(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'<tr data-app-id="(\d+)"', html)]


# The baseline: one hand-written query for the rows the page shows, with the same filters and order.
BASELINE_SQL = """
SELECT a.id, a.number, a.title, a.status, a.field, a.grant_requested, a.total_budget, a.last_submitted_at,
       o.name AS org_name, d.name AS district_name, c.title AS call_title,
       (SELECT count(*) FROM application_version v WHERE v.application_id = a.id) AS versions
FROM application a
JOIN organization o ON o.id = a.org_id
LEFT JOIN district d ON d.id = o.district_id
JOIN "call" c ON c.id = a.call_id
WHERE a.submitted_at IS NOT NULL {where}
ORDER BY {order}
LIMIT :limit OFFSET 0
"""
FLAG_SQL = """ AND (o.status <> 'verified'
  OR EXISTS (SELECT 1 FROM credit_record cr WHERE cr.org_id = o.id AND cr.start_on <= :today
             AND (cr.removed_on IS NULL OR cr.removed_on > :today) AND (cr.end_on IS NULL OR cr.end_on >= :today))
  OR (o.org_type <> 'filed_community_org' AND (
        EXISTS (SELECT 1 FROM annual_report r WHERE r.org_id = o.id AND r.year < :year AND r.result = 'fail'
                AND NOT EXISTS (SELECT 1 FROM annual_report r2 WHERE r2.org_id = o.id AND r2.year > r.year AND r2.year < :year))
     OR (c.require_annual_report_pass AND o.founded_on < :due_start
         AND NOT EXISTS (SELECT 1 FROM annual_report r3 WHERE r3.org_id = o.id AND r3.year = :due))))
  OR (a.call_id = 2 AND o.founded_on > :two_years_ago)
  OR (c.district_orgs_only AND (o.district_id <> c.district_id OR o.org_type <> 'social_service_org')))"""

SORT_SQL = {
    "submitted_asc": "a.last_submitted_at ASC, a.id ASC",
    "grant_desc": "a.grant_requested DESC, a.id DESC",
    "org": "o.name ASC, a.id ASC",
}


def scenarios(ids: dict) -> list[tuple[str, dict, str, dict, str]]:
    """(label, query args, extra WHERE, params, sort key)."""
    q = ids["org_word"]
    return [
        ("全部（不筛选）", {"status": "all"}, "", {}, "submitted_asc"),
        ("待审查（默认）", {}, " AND a.status IN ('submitted', 'resubmitted')", {}, "submitted_asc"),
        ("筛选：批次+领域+有资格问题", {"status": "all", "call": ids["call"], "field": "elderly", "flag": "any"},
         " AND a.call_id = :call AND a.field = 'elderly'" + FLAG_SQL, {"call": ids["call"]}, "submitted_asc"),
        ("搜索：组织名称", {"status": "all", "q": q},
         " AND (a.number LIKE :q ESCAPE '\\' OR a.title LIKE :q ESCAPE '\\' OR o.name LIKE :q ESCAPE '\\')", {"q": f"%{q}%"}, "submitted_asc"),
        ("排序：申请资助额", {"status": "all", "sort": "grant_desc"}, "", {}, "grant_desc"),
        ("排序：组织名称", {"status": "all", "sort": "org"}, "", {}, "org"),
    ]


def run(url: str, label: str, n_apps: int, n_orgs: int, repeat: int) -> bool:
    from incubator.accounts.models import User
    from incubator.db import today_local
    from incubator.orgs.eligibility import last_due_report_year

    with tempfile.TemporaryDirectory(prefix="bench-staff-list-") as tmp:
        if url.startswith("sqlite"):
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = make_app(url, Path(tmp))
        ok = True
        with app.app_context():
            db.drop_all()
            db.create_all()
            t0 = time.perf_counter()
            ids = seed(n_apps, n_orgs)
            seeded = time.perf_counter() - t0
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            total = db.session.scalar(text("SELECT count(*) FROM application"))
            n_org = db.session.scalar(text("SELECT count(*) FROM organization"))
            print(f"\n=== {label}: {db.engine.dialect.name}, {total:,} applications, {n_org:,} organisations "
                  f"(seeded in {seeded:.1f} s), median/p95 of {repeat} requests ===")
            today = today_local()
            due = last_due_report_year(today)
            base_params = {"today": today, "year": today.year, "due": due, "due_start": date(due, 1, 1),
                           "two_years_ago": date(today.year - 2, today.month,
                                                 min(today.day, calendar.monthrange(today.year - 2, today.month)[1]))}
            users = {"管理员": db.session.get(User, ids["admin"]), "区级工作人员": db.session.get(User, ids["staff"])}
            header = (f"{'用户':<8}{'场景':<22}{'每页':>4}{'行':>5}{'总数':>7}{'页面ms':>9}{'p95':>7}{'CPU':>7}{'SQL数':>6}"
                      f"{'基线ms':>8}{'倍数':>7}")
            reference = app.test_client()
            login(reference, users["管理员"])
            dash, dash_cpu = timed(lambda: reference.get("/dashboard"), repeat)
            print(f"(reference: the back office's dashboard page costs {statistics.median(dash):.1f} ms, "
                  f"CPU {statistics.median(dash_cpu):.1f} ms: layout, navigation counts, login check)")
            print(header)
            for who, user in users.items():
                client = app.test_client()
                login(client, user)
                for name, args, where, params, sort in scenarios(ids):
                    counts = {}
                    for size in (20, 100):
                        query = dict(args, per_page=size)
                        html_holder = {}

                        def page():
                            response = client.get("/staff/applications/", query_string=query)
                            assert response.status_code == 200, response.status_code
                            html_holder["html"] = response.get_data(as_text=True)

                        times, cpu = timed(page, repeat)
                        with counting(db.engine) as statements:
                            page()
                        counts[size] = len(statements)
                        html = html_holder["html"]
                        import re

                        m = re.search(r'data-testid="screening-count"[^>]*>(\d+)<', html)
                        shown_total = int(m.group(1)) if m else 0
                        scope = " AND o.district_id = :district" if user.district_id else ""
                        sql = text(BASELINE_SQL.format(where=where + scope, order=SORT_SQL[sort]))
                        bparams = {**base_params, **params, "limit": size, "district": user.district_id}

                        def baseline():
                            with db.engine.connect() as conn:
                                return conn.execute(sql, bparams).fetchall()

                        rows = baseline()
                        if [r[0] for r in rows] != _ids(html):
                            ok = False
                            print(f"  !! {who} {name} {size}: the baseline's rows differ from the page's")
                        btimes, _bcpu = timed(baseline, repeat)
                        med, bmed = statistics.median(times), statistics.median(btimes)
                        print(f"{who:<8}{name:<22}{size:>4}{len(rows):>5}{shown_total:>7}{med:>9.1f}{p95(times):>7.1f}"
                              f"{statistics.median(cpu):>7.1f}{counts[size]:>6}{bmed:>8.2f}{med / bmed:>7.1f}")
                    if counts[20] != counts[100]:
                        ok = False
                        print(f"  !! {who} {name}: {counts[20]} statements at 20 rows, {counts[100]} at 100")
            client = app.test_client()
            login(client, users["管理员"])
            app.config["EXPORT_SYNC_MAX_ROWS"] = 10**9  # the file itself, not the background-job offer
            t0 = time.perf_counter()
            response = client.get("/staff/applications/export", query_string={"status": "all"})
            assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
            print(f"Excel export of every application ({total:,} rows, {len(response.data) / 1e6:.1f} MB): "
                  f"{time.perf_counter() - t0:.1f} s (benchmarks/excel_export.py measures it in detail)")
            db.session.remove()
            if db.engine.dialect.name == "postgresql":
                db.drop_all()
            db.engine.dispose()
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=20_000)
    parser.add_argument("--orgs", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ok = run("sqlite://", "SQLite", args.apps, args.orgs, args.repeat)
    pg = os.environ.get("BENCH_DATABASE_URL")
    if pg:
        ok = run(pg, "PostgreSQL", args.apps, args.orgs, args.repeat) and ok
    print("\n" + ("OK: same rows as the baseline; query count independent of page size." if ok else "FAILED (see !! lines)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
