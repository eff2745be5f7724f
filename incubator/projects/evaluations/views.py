"""Pages of the project's evaluations area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluations", __name__)
