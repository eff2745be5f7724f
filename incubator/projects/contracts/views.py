"""Pages of the project's contracts area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("contracts", __name__)
