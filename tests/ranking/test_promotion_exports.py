"""Promotion to the next round, the Excel score table, the 评分汇总表 PDF job, expert ratings and histories."""
from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.jobs import Job, JobStatus
from incubator.review import ranking
from incubator.review import services as review_services
from incubator.review.models import RoundEntry, RoundStatus
from incubator.review.ranking_models import ExpertRating
from tests.applications.helpers import make_call, make_org
from tests.conftest import login_as
from tests.factories import make_user
from tests.ranking.helpers import add_score, experts, passed_app, scored_round
from tests.review.factories import make_round


@pytest.fixture()
def setup(db):
    call = make_call()
    org = make_org()
    apps = [passed_app(org, call, number=f"WCT-2026-000{i}") for i in range(1, 5)]
    e = experts(3)
    staff = make_user(Role.STAFF)
    r = scored_round(call, [(a, [(x, t) for x in e]) for a, t in zip(apps, (90, 80, 70, 60))], by=staff,
                     promotion_top_n=2)
    nxt = make_round(call, by=staff, name="复审路演")
    db.session.commit()
    return call, apps, e, staff, r, nxt


def test_promote_sets_the_next_rounds_entries_exactly(db, setup):
    call, apps, e, staff, r, nxt = setup
    result = ranking.round_ranking(r)
    assert result.suggested_ids == {apps[0].id, apps[1].id} and result.next_round.id == nxt.id
    # manual adjustment: the suggestion plus the third
    added, removed = ranking.promote(r, [apps[0].id, apps[1].id, apps[2].id], to_round=nxt, by=staff)
    assert (added, removed) == (3, 0)
    assert {x.application_id for x in nxt.entries} == {apps[0].id, apps[1].id, apps[2].id}
    added, removed = ranking.promote(r, [apps[0].id, apps[1].id], to_round=nxt, by=staff)
    assert (added, removed) == (0, 1)
    db.session.commit()
    assert {x.application_id for x in db.session.scalars(db.select(RoundEntry).where(RoundEntry.round_id == nxt.id))} \
        == {apps[0].id, apps[1].id}
    assert [row.in_next_round for row in ranking.round_ranking(r).rows] == [True, True, False, False]
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "ranking.promote")) is not None


def test_promote_refusals(db, setup):
    call, apps, e, staff, r, nxt = setup
    with pytest.raises(review_services.ReviewError, match="请至少选择"):
        ranking.promote(r, [], to_round=nxt, by=staff)
    other = passed_app(make_org(), call)
    with pytest.raises(review_services.ReviewError, match="不在本轮评审中"):
        ranking.promote(r, [other.id], to_round=nxt, by=staff)
    r.status = RoundStatus.SCORING
    with pytest.raises(review_services.ReviewError, match="评分结束后"):
        ranking.promote(r, [apps[0].id], to_round=nxt, by=staff)
    r.status = RoundStatus.CLOSED
    nxt.status = RoundStatus.DRAWN
    with pytest.raises(review_services.ReviewError, match="已抽取专家"):
        ranking.promote(r, [apps[0].id], to_round=nxt, by=staff)


def test_promote_view_uses_the_ticked_boxes(client, db, setup):
    call, apps, e, staff, r, nxt = setup
    login_as(client, staff)
    page = client.get(f"/staff/ranking/rounds/{r.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "排序：正式得分高者在前" in html and "已提交 / 已分配" in html
    assert "12 / 12" in html
    resp = client.post(f"/staff/ranking/rounds/{r.id}/promote",
                       data={"application_id": [str(apps[3].id), "abc", "-1", "99999999999"]})
    assert resp.status_code == 302
    assert [x.application_id for x in db.session.scalars(db.select(RoundEntry).where(RoundEntry.round_id == nxt.id))] \
        == [apps[3].id]
    resp = client.post(f"/staff/ranking/rounds/{r.id}/promote", data={})
    assert resp.status_code == 422 and "请至少选择" in resp.get_data(as_text=True)


def test_excel_score_table_has_numbers(client, db, setup):
    call, apps, e, staff, r, nxt = setup
    apps[0].title = "=HYPERLINK(\"http://x\",\"点击\")"
    db.session.commit()
    login_as(client, staff)
    resp = client.get(f"/staff/ranking/rounds/{r.id}/export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:8] == ("排名", "申报编号", "项目名称", "申报单位", "服务领域", "已提交评分", "已分配专家", "正式得分")
    assert rows[1][0] == 1 and rows[1][1] == "WCT-2026-0001"
    assert rows[1][2].startswith("'=HYPERLINK")  # formula neutralised
    assert isinstance(rows[1][7], (int, float)) and rows[1][7] == 90
    assert rows[1][13] in {x.name for x in e}
    assert isinstance(rows[1][14], (int, float))


def test_score_sheet_pdf_job(client, db, setup, run_jobs, tmp_path):
    call, apps, e, staff, r, nxt = setup
    login_as(client, staff)
    resp = client.post(f"/staff/ranking/rounds/{r.id}/score-sheet")
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    run_jobs()
    job = db.session.scalar(db.select(Job).where(Job.kind == "score_sheet_pdf"))
    assert job.status == JobStatus.FINISHED, job.error
    from incubator.core.files import read_bytes

    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(read_bytes(job.result_file))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "评分汇总表" in text and call.title in text
    assert "第 1 评审组" in text and "评审专家签字" in text
    for x in e:
        assert x.name in text
    assert "需求分析" in text and "方案可行性" in text and "团队能力" in text
    assert "WCT-2026-0001" in text and "90.00" in text and "正式得分" in text
    assert "30" in text and "40" in text  # per-criterion points of the 90 (30 + 40 + 20)
    assert "签字：" in text and "日期：" in text
    assert client.get(f"/jobs/{job.id}/download").status_code == 200


def test_score_sheet_groups_by_panel(db):
    call = make_call()
    org = make_org()
    a, b = passed_app(org, call), passed_app(org, call)
    e = experts(4)
    r = scored_round(call, [(a, [(e[0], 80), (e[1], 70), (e[2], 75)]), (b, [(e[1], 60), (e[2], 65), (e[3], 70)])])
    ctx = ranking.score_sheet_context(r)
    assert len(ctx["panels"]) == 2
    assert [len(p["experts"]) for p in ctx["panels"]] == [3, 3]
    first = ctx["panels"][0]["applications"][0]
    assert first["official"] == "75.00"
    assert sorted(m["points"] for m in first["marks"]) == [["30", "40", "0"], ["30", "40", "10"], ["30", "40", "5"]]
    assert sorted(m["total"] for m in first["marks"]) == ["70.00", "75.00", "80.00"]


def test_ratings_and_history(client, db, setup):
    call, apps, e, staff, r, nxt = setup
    # e[0] submitted one score late in another round, deviating by 10 from the panel
    call2 = make_call()
    app2 = passed_app(make_org(), call2)
    r2 = scored_round(call2, [(app2, [(e[0], 90), (e[1], 80), (e[2], 70)])], by=staff)
    score = r2.assignments[0].score
    score.submitted_at = r2.deadline + timedelta(hours=2)
    db.session.commit()
    login_as(client, staff)
    resp = client.post(f"/staff/ranking/rounds/{r.id}/ratings", data={
        f"timeliness-{e[0].id}": "5", f"quality-{e[0].id}": "4", f"note-{e[0].id}": "意见具体",
        f"timeliness-{e[1].id}": "6", f"quality-{e[1].id}": "3"})
    assert resp.status_code == 422 and "1–5 的整数" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ExpertRating.id))) == 0
    resp = client.post(f"/staff/ranking/rounds/{r.id}/ratings", data={
        f"timeliness-{e[0].id}": "5", f"quality-{e[0].id}": "4", f"note-{e[0].id}": "意见具体"})
    assert resp.status_code == 302
    rating = db.session.scalar(db.select(ExpertRating))
    assert (rating.expert_id, rating.timeliness, rating.quality, rating.note) == (e[0].id, 5, 4, "意见具体")
    history = ranking.expert_history(e[0], staff)
    assert len(history.rounds) == 2 and history.reviews == 5
    # 4 on time of 5 → 80.0 %; deviations: round 1 all equal to the official (0 × 4), round 2 |90 − 80| = 10
    assert history.on_time_rate == Decimal("80.0")
    assert history.avg_deviation == Decimal("2.00")
    assert history.avg_timeliness == Decimal("5.0") and history.avg_quality == Decimal("4.0")
    page = client.get(f"/staff/ranking/experts/{e[0].id}").get_data(as_text=True)
    assert "80.0%" in page and "2.00" in page and "5 优秀" in page
    assert e[0].name in client.get("/staff/ranking/experts/").get_data(as_text=True)


def test_ratings_refused_before_the_round_closes(db, setup):
    call, apps, e, staff, r, nxt = setup
    r.status = RoundStatus.SCORING
    with pytest.raises(review_services.ReviewError, match="评分结束后"):
        ranking.rate_experts(r, [ranking.RatingInput(e[0].id, 3, 3)], by=staff)


def test_district_staff_see_only_their_district(client, db):
    from tests.factories import make_district

    da, db_ = make_district(), make_district()
    call_a = make_call(district=da)
    app_a = passed_app(make_org(district=da), call_a)
    e = experts(1)
    r = scored_round(call_a, [(app_a, [(e[0], 70)])])
    staff_b = make_user(Role.STAFF, district=db_)
    staff_a = make_user(Role.STAFF, district=da)
    db.session.commit()
    login_as(client, staff_b)
    assert client.get(f"/staff/ranking/rounds/{r.id}").status_code == 404
    assert client.get(f"/staff/ranking/rounds/{r.id}/export.xlsx").status_code == 404
    assert call_a.title not in client.get("/staff/ranking/").get_data(as_text=True)
    assert e[0].name not in client.get("/staff/ranking/experts/").get_data(as_text=True)
    login_as(client, staff_a)
    assert client.get(f"/staff/ranking/rounds/{r.id}").status_code == 200


def test_applicants_and_experts_cannot_rank(client, db, setup):
    call, apps, e, staff, r, nxt = setup
    member = make_user(Role.APPLICANT, org=apps[0].org)
    db.session.commit()
    for user in (member, e[0].user):
        login_as(client, user)
        assert client.get(f"/staff/ranking/rounds/{r.id}").status_code == 403
        assert client.post(f"/staff/ranking/rounds/{r.id}/promote", data={"application_id": str(apps[0].id)}).status_code == 403
    assert not list(nxt.entries)


def test_late_score_marked(db):
    call = make_call()
    app = passed_app(make_org(), call)
    e = experts(1)
    r = scored_round(call, [(app, [(e[0], None)])])
    a = r.assignments[0]
    from incubator.extensions import db as _db

    _db.session.delete(a)
    _db.session.flush()
    add_score(r, app, e[0], 70, submitted_at=r.deadline + timedelta(minutes=1))
    mark = ranking.round_ranking(r).rows[0].marks[0]
    assert mark.on_time is False
