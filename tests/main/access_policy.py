from tests.access import Rule

RULES = [
    Rule("main.home", "GET", lambda w: "/", public=True),
    Rule("main.healthz", "GET", lambda w: "/healthz", public=True),
    Rule("main.dashboard", "GET", lambda w: "/dashboard", others="OK", allow={"anonymous": "LOGIN"}),
]
