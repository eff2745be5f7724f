"""In-app notifications (通知中心): ``notify(user, title, body, link)`` from any domain's services."""
