"""Who may reach the notification centre's routes: every signed-in user, each only their own."""
from tests.access import DENY, LOGIN, OK, Rule

SIGNED_IN = {"anonymous": LOGIN}


def _note(w):
    from incubator.notifications.services import notify

    w.note_a = notify(w.applicant_a, "申报书已提交", "测试", "/applications/mine")


RULES = [
    Rule("notifications.index", "GET", lambda w: "/notifications/", others=OK, allow=SIGNED_IN),
    Rule("notifications.read_all", "POST", lambda w: "/notifications/read-all", others=OK, allow=SIGNED_IN),
    Rule("notifications.read", "POST", lambda w: f"/notifications/{w.note_a.id}/read", allow={"applicant_a": OK}, setup=_note),
    Rule("notifications.read", "POST", lambda w: "/notifications/99999999999/read", allow={"anonymous": DENY}, setup=_note),
]
