"""Tables of the project's evaluations area (see the package docstring)."""
from __future__ import annotations
