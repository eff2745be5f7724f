"""`flask --app incubator publicity finalize`: finalise every 公示 whose period has ended.

For a scheduler (once a day after midnight is enough; exactly one scheduler, DESIGN "Scaling out"):
each open 公示 whose end date has passed and that has no unanswered objection becomes final, its grants
go publicized → funded and the organisations are notified; a 公示 with open objections is left as it is
and listed. Exit 0 when nothing was refused, 1 when some 公示 still wait for answers.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

publicity_cli = AppGroup("publicity", help="公示：期满确定结果 / publicity: finalise ended periods")


@publicity_cli.command("finalize")
def finalize_command():
    """Finalise every open 公示 whose period has ended and has no open objection."""
    from incubator.extensions import db
    from incubator.publicity.services import finalize_due

    results = finalize_due()
    db.session.commit()
    if not results:
        click.echo("没有到期的公示 / no publicity period has ended")
        return
    refused = 0
    for pub, confirmed, problem in results:
        if problem:
            refused += 1
            click.echo(f"公示 #{pub.id} {pub.title}：未确定 / not finalised — {problem}")
        else:
            click.echo(f"公示 #{pub.id} {pub.title}：结果已确定，{confirmed} 个项目确定资助 / finalised, {confirmed} grant(s)")
    if refused:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(publicity_cli)
