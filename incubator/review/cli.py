"""`flask --app incubator review …`: replay a round's draw, send score reminders.

``review replay ROUND_ID`` recomputes every revealed draw of the round (the initial draw and each
replacement) from its stored inputs and seed and compares the digests; it also checks the seed against
the commitment published before the draw and the assignments in the database against the result.
Exit code 0 when everything matches, 1 otherwise (an interface that outside checks rely on).

``review remind`` queues the reminder job (for a scheduler / cron: once a day is enough; the job
sends at most one reminder per assignment per day).
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

review_cli = AppGroup("review", help="评审：抽取复核、评分提醒 / review: draw replay, reminders")


@review_cli.command("replay")
@click.argument("round_id")
def replay_command(round_id: str):
    """Recompute ROUND_ID's draw from the stored inputs and seed; exit 0 when it matches."""
    from incubator.extensions import db
    from incubator.review.draw import verify_round
    from incubator.review.models import ReviewRound

    if not round_id.isdigit() or len(round_id) > 9:
        click.echo(f"评审轮次编号无效 / invalid round id: {round_id!r}")
        raise SystemExit(2)
    round_ = db.session.get(ReviewRound, int(round_id))
    if round_ is None:
        click.echo(f"评审轮次 {round_id} 不存在 / review round {round_id} not found")
        raise SystemExit(2)
    checks = verify_round(round_)
    click.echo(f"评审轮次 / review round #{round_.id}: {round_.call.title} {round_.title}")
    if not checks:
        click.echo("本轮尚未完成抽取，无可复核的结果 / no revealed draw to replay: MISMATCH")
        raise SystemExit(1)
    for c in checks:
        d = c.draw
        kind = "首次抽取 / initial" if d.parent_id is None else f"替换抽取 / replacement ({d.label})"
        click.echo(f"  抽取 / draw #{d.id} {kind}")
        click.echo(f"    种子哈希 / commitment:     {d.commitment}")
        click.echo(f"    种子 / seed:               {d.seed}")
        click.echo(f"    输入摘要 / inputs digest:  {d.inputs_digest}")
        click.echo(f"    结果摘要 / result digest:  {d.result_digest}")
        click.echo(f"    求解器 / solver:           {d.solver_signature}")
        if c.ok:
            click.echo("    结果：一致 / MATCH")
        for p in c.problems:
            click.echo(f"    问题 / problem: {p}")
    if all(c.ok for c in checks):
        click.echo(f"复核结果：{len(checks)} 次抽取全部一致 / all {len(checks)} draw(s) MATCH")
        return
    bad = sum(not c.ok for c in checks)
    click.echo(f"复核结果：{bad} 次抽取不一致 / {bad} draw(s) MISMATCH")
    raise SystemExit(1)


@review_cli.command("remind")
def remind_command():
    """Queue the reminder job (experts with unsubmitted scores near the deadline)."""
    from incubator.extensions import db
    from incubator.review.jobs import queue_reminders

    job = queue_reminders(by=None)
    db.session.commit()
    click.echo(f"已排队评分提醒任务 / reminder job queued: #{job.id}")


def init_app(app: Flask) -> None:
    app.cli.add_command(review_cli)
