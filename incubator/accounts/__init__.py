"""Users, roles, login, passwords, two-factor login and sessions."""
