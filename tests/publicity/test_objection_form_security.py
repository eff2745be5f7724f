"""The public objection form with the settings the shared test app turns off: CSRF tokens and rate limits."""
from __future__ import annotations

import re

from incubator.extensions import db
from incubator.publicity.models import Objection
from tests.accounts.helpers import separate_app
from tests.publicity.helpers import funding_world, running_publicity


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


DATA = {"name": "王五", "phone": "13912345678", "content": "该项目的团队成员与申报书所列不一致，请核实。"}


def test_csrf_is_required(tmp_path):
    with separate_app(tmp_path, WTF_CSRF_ENABLED=True) as app:
        with app.app_context():
            pub_id = running_publicity(funding_world()).id
            db.session.commit()
        c = app.test_client()
        r = c.post(f"/publicity/{pub_id}/objections", data=DATA)
        assert r.status_code == 400
        r = c.post(f"/publicity/{pub_id}/objections", data=dict(DATA, csrf_token="forged"))
        assert r.status_code == 400
        token = _token(c.get(f"/publicity/{pub_id}").get_data(as_text=True))
        r = c.post(f"/publicity/{pub_id}/objections", data=dict(DATA, csrf_token=token))
        assert r.status_code == 302
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(Objection.id))) == 1


def test_rate_limited_per_address(tmp_path):
    with separate_app(tmp_path, RATELIMIT_ENABLED=True) as app:
        with app.app_context():
            pub_id = running_publicity(funding_world()).id
            db.session.commit()
        c = app.test_client()
        for _ in range(5):
            assert c.post(f"/publicity/{pub_id}/objections", data=dict(DATA, content="短")).status_code == 422
        r = c.post(f"/publicity/{pub_id}/objections", data=DATA)
        assert r.status_code == 429 and "操作过于频繁" in r.get_data(as_text=True)
        assert c.get(f"/publicity/{pub_id}").status_code == 200  # reading is not limited
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert other.post(f"/publicity/{pub_id}/objections", data=DATA).status_code == 302
