"""Pages of the project's reports area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
