"""System administration: users and roles, audit log, working-day overrides."""
