"""Pages of the project's exits area."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exits", __name__)
