"""Staff access to review rounds, shared by the review and ranking blueprints."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from incubator.extensions import db
from incubator.review import services
from incubator.review.models import ReviewRound


def require_staff() -> None:
    """403 unless the user may manage review rounds at all (staff or admin)."""
    if not services.may_manage(current_user):
        abort(403)


def load_round(round_id: int) -> ReviewRound:
    """The round, or 404 when it does not exist or lies outside the user's scope."""
    require_staff()
    r = db.session.get(ReviewRound, round_id)
    if r is None or not r.can_manage(current_user):
        abort(404)
    return r
