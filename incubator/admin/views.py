"""STUB (replaced by the accounts/admin work)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
