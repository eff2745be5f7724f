"""Factories of the expert pool's tests (plain functions returning flushed objects)."""
from __future__ import annotations

import itertools
from datetime import date

from incubator.accounts.models import Role
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.pools.models import Expert, ExpertField, ExpertRelation, ExpertStatus, ExpertUnavailability, RelationKind
from tests.factories import make_user

_seq = itertools.count(1)


def make_expert(*, user=None, fields=(ServiceField.ELDERLY,), **kw) -> Expert:
    n = next(_seq)
    email = kw.pop("email", f"expert{n}@univ{n}.edu.cn")
    mobile = kw.pop("mobile", f"1360379{n:04d}")
    user = user or make_user(Role.EXPERT, email=email, mobile=mobile, name=kw.get("name", f"专家{n}"))
    defaults = dict(name=user.name, mobile=user.mobile or mobile, email=user.email, title="教授",
                    employer=f"测试大学{n}", status=ExpertStatus.ACTIVE, max_reviews_per_round=10)
    defaults.update(kw)
    expert = Expert(user_id=user.id, **defaults)
    expert.fields = [ExpertField(field=f) for f in fields]
    db.session.add(expert)
    db.session.flush()
    return expert


def expert_of(user, **kw) -> Expert:
    """The Expert record of an expert user, created if it does not exist yet."""
    existing = db.session.scalar(db.select(Expert).where(Expert.user_id == user.id))
    if existing is not None:
        for k, v in kw.items():
            setattr(existing, k, v)
        db.session.flush()
        return existing
    return make_expert(user=user, **kw)


def add_relation(expert: Expert, org=None, *, kind=RelationKind.ADVISOR, start_on=None, end_on=None,
                 org_uscc=None, org_name=None) -> ExpertRelation:
    rel = ExpertRelation(expert_id=expert.id, org_id=org.id if org is not None else None,
                         org_uscc=org_uscc if org_uscc is not None else (org.uscc if org is not None else None),
                         org_name=org_name or (org.name if org is not None else "某组织"), kind=kind,
                         start_on=start_on, end_on=end_on)
    db.session.add(rel)
    db.session.flush()
    db.session.refresh(expert)
    return rel


def add_unavailable(expert: Expert, start_on: date, end_on: date, note=None) -> ExpertUnavailability:
    row = ExpertUnavailability(expert_id=expert.id, start_on=start_on, end_on=end_on, note=note)
    db.session.add(row)
    db.session.flush()
    db.session.refresh(expert)
    return row
