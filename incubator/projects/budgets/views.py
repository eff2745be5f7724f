"""Pages of the project's budgets area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("budgets", __name__)
