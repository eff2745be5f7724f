"""Tables of the project's reports area (see the package docstring)."""
from __future__ import annotations
