"""`flask --app incubator reports remind`: queue the report reminder job (a scheduler / cron, once a day)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="项目报告：到期提醒 / project reports: reminders")


@reports_cli.command("remind")
def remind_command():
    """Queue the reminder job (reports due within 3 days or overdue)."""
    from incubator.extensions import db
    from incubator.projects.reports.jobs import queue_reminders

    job = queue_reminders()
    db.session.commit()
    click.echo(f"已排队报告提醒任务 / report reminder job queued: #{job.id}")


def init_app(app: Flask) -> None:
    app.cli.add_command(reports_cli)
