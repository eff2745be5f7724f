"""STUB (replaced by the orgs work)."""
from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


@bp.route("/register", methods=["GET", "POST"])
def register():
    return "register"
