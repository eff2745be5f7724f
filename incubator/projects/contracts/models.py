"""Tables of the project's contracts area (see the package docstring)."""
from __future__ import annotations
