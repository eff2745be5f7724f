"""Home page, health check, background-job status pages, development outbox."""
