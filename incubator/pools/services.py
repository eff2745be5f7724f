"""Expert pool services (see the interface in incubator/pools/models.py)."""
from __future__ import annotations

from sqlalchemy.orm import selectinload

from incubator.extensions import db
from incubator.pools.models import Expert, ExpertStatus
from incubator.review import conflicts


def _loaded():
    return (selectinload(Expert.fields), selectinload(Expert.relations), selectinload(Expert.unavailable))


def active_experts() -> list[Expert]:
    """Experts in the pool (在库), with fields, relations and unavailable dates loaded; by id."""
    return list(
        db.session.scalars(
            db.select(Expert).options(*_loaded()).where(Expert.status == ExpertStatus.ACTIVE).order_by(Expert.id)
        )
    )


def expert_for_user(user) -> Expert | None:
    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(db.select(Expert).options(*_loaded()).where(Expert.user_id == user.id))


def conflict_profile(expert: Expert) -> dict:
    """Plain data for conflict detection: ``incubator.review.conflicts.Expert(**conflict_profile(e))``.

    Keys: id, employer_org_id, employer_uscc, email_domain, relations (a tuple of
    ``conflicts.Relation``; a relation naming both a registered organisation and a USCC gives one
    Relation for each key, a free-text relation without USCC cannot match and gives none).
    """
    relations: list[conflicts.Relation] = []
    for rel in expert.relations:
        for key in (rel.org_id, rel.org_uscc or None):
            if key is not None:
                relations.append(conflicts.Relation(org=key, kind=str(rel.kind.value), start=rel.start_on, end=rel.end_on))
    return {
        "id": expert.id,
        "employer_org_id": expert.employer_org_id,
        "employer_uscc": expert.employer_uscc or None,
        "email_domain": expert.email_domain or None,
        "relations": tuple(relations),
    }


def conflict_expert(expert: Expert) -> conflicts.Expert:
    return conflicts.Expert(**conflict_profile(expert))
