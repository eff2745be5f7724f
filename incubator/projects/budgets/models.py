"""Tables of the project's budgets area (see the package docstring)."""
from __future__ import annotations
