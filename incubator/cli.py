"""Flask CLI commands. Each domain's commands live in its own module and are registered here."""
import click
from flask import Flask


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_data)
    from incubator import worker

    worker.init_app(app)
    from incubator import backup

    backup.init_app(app)
    from incubator.accounts import cli as accounts_cli

    accounts_cli.init_app(app)
    from incubator.review import cli as review_cli

    review_cli.init_app(app)
    from incubator.publicity import cli as publicity_cli

    publicity_cli.init_app(app)
    from incubator.projects.reports import cli as reports_cli

    reports_cli.init_app(app)


@click.command("demo-data")
def demo_data():
    """Fill an empty database with the 洛阳市 demo; print role<TAB>login<TAB>password[<TAB>TOTP]."""
    from incubator.demo import DatabaseNotEmpty, account_lines, load_demo_data
    from incubator.extensions import db

    try:
        accounts = load_demo_data()
    except DatabaseNotEmpty as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    for line in account_lines(accounts):
        click.echo(line)
