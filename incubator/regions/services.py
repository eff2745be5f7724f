from __future__ import annotations

from incubator.extensions import db
from incubator.regions.models import Community, District, Street


def districts() -> list[District]:
    return list(db.session.scalars(db.select(District).order_by(District.code)))


def district_choices() -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in districts()]


def streets_of(district_id: int) -> list[Street]:
    return list(db.session.scalars(db.select(Street).where(Street.district_id == district_id).order_by(Street.id)))


def communities_of(street_id: int) -> list[Community]:
    return list(
        db.session.scalars(db.select(Community).where(Community.street_id == street_id).order_by(Community.id))
    )
