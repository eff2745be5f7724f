"""Racing one action from several threads at once (PostgreSQL row-lock tests).

``race(app, user_ids, action, expected=(ErrorClass, ...))``: each thread opens its own app context and
session, loads its user, waits at a barrier so that all start together, runs ``action(user, n)`` and
commits. Returns one outcome per thread: "ok", the message of an expected refusal, or
"unexpected <type>: <message>" for anything else (so a failing thread fails the caller's assertion).
"""
from __future__ import annotations

import threading


def race(app, user_ids: list[int], action, *, expected: tuple[type[BaseException], ...]) -> list[str]:
    from incubator.accounts.models import User
    from incubator.extensions import db

    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def run(user_id: int, n: int) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                prepare = action(user, n)  # the action may return a callable: set-up done, act after the barrier
                barrier.wait(timeout=10)
                if callable(prepare):
                    prepare()
                db.session.commit()
                outcomes.append("ok")
            except expected as exc:
                db.session.rollback()
                outcomes.append(str(exc))
            except BaseException as exc:  # noqa: BLE001 - reported to the caller
                db.session.rollback()
                outcomes.append(f"unexpected {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(u, i)) for i, u in enumerate(user_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes
