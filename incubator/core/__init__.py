"""Shared mechanisms; nothing here knows about any domain."""
