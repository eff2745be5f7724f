"""``flask --app incubator create-admin``."""
from __future__ import annotations

import pyotp

from incubator.accounts.models import Role, User
from incubator.accounts.passwords import verify_password


def test_create_admin_prints_login_password_and_totp_secret(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", " Root@Example.CN ", "--name", "系统管理员",
                                 "--password", "洛阳牡丹甲天下年年花开满城"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "root@example.cn"))
    assert user.role == Role.ADMIN and user.totp_enabled
    assert "root@example.cn" in result.output and "洛阳牡丹甲天下年年花开满城" in result.output
    assert user.totp_secret in result.output
    assert verify_password(user.password_hash, "洛阳牡丹甲天下年年花开满城")
    assert len(pyotp.TOTP(user.totp_secret).now()) == 6


def test_create_admin_generates_a_password(app, db):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "a@example.cn", "--name", "管理员"])
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.strip().startswith("密码"))
    password = line.split(":", 1)[1].strip()
    user = db.session.scalar(db.select(User).where(User.email == "a@example.cn"))
    assert len(password) >= 12 and verify_password(user.password_hash, password)


def test_create_admin_refuses_weak_password(app, db):
    for weak in ("short", "password1234", "x" * 200):
        result = app.test_cli_runner().invoke(args=["create-admin", "--email", "a@example.cn", "--name", "管", "--password", weak])
        assert result.exit_code != 0 and "密码不符合要求" in result.output
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_create_admin_refuses_duplicate(app, db):
    args = ["create-admin", "--email", "a@example.cn", "--name", "管", "--password", "洛阳牡丹甲天下年年花开满城"]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    args[2] = "A@EXAMPLE.CN"
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and "已被其他账号使用" in result.output
