"""``flask --app incubator create-admin --email E --name N [--password P]``."""
from __future__ import annotations

import secrets

import click
from flask import Flask, current_app

from incubator.accounts import services, two_factor
from incubator.extensions import db


def _generated_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters


@click.command("create-admin")
@click.option("--email", required=True, help="登录邮箱")
@click.option("--name", required=True, help="姓名")
@click.option("--password", default=None, help="登录密码（至少 12 个字符）；省略时随机生成")
@click.option("--mobile", default=None, help="手机号（选填）")
def create_admin_command(email: str, name: str, password: str | None, mobile: str | None) -> None:
    """创建系统管理员（已绑定两步验证），并打印登录信息。"""
    password = password if password is not None else _generated_password()
    try:
        user, secret, codes = services.create_admin(email=email, name=name, password=password, mobile=mobile)
    except services.WeakPassword as exc:
        raise click.ClickException("密码不符合要求：" + "".join(exc.messages)) from exc
    except services.AccountError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    uri = two_factor.provisioning_uri(secret, user.email, current_app.config["TOTP_ISSUER"])
    click.echo("已创建系统管理员")
    click.echo(f"  登录账号: {user.email}")
    click.echo(f"  密码: {password}")
    click.echo(f"  两步验证密钥 (TOTP, base32): {secret}")
    click.echo(f"  验证器链接: {uri}")
    click.echo("  恢复码（每个只能用一次）: " + "  ".join(codes))


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
