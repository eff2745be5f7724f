"""行政区划: District / Street / Community, shared by accounts (staff scope) and orgs."""
