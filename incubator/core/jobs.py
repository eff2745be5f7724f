"""STUB (replaced by the core-mechanisms work)."""


def queue_health() -> dict:
    return {"redis": "unknown", "worker": "unknown"}
