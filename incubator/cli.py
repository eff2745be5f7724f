"""Flask CLI commands. Each domain's commands live in its own cli.py and are registered here."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
