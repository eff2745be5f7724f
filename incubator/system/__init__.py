"""System pages: background jobs, the developer outbox, working-day calendar administration."""
