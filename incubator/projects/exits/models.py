"""Tables of the project's exits area (see the package docstring)."""
from __future__ import annotations
