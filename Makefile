# The two commands: `make run` (serve with demo data) and `make test` (the whole suite, twice).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help run test setup migration initial-migration

help:
	@echo "make run                serve http://127.0.0.1:5000 with Redis and a worker (Ctrl-C stops all)"
	@echo "make test               the whole suite on SQLite, then on PostgreSQL with browser tests"
	@echo "make setup              only install what is missing (Debian packages, .venv)"
	@echo "make migration MSG=...  a new Alembic revision from the models"
	@echo "make initial-migration  regenerate the single initial migration from the models"

run:
	@scripts/run.sh

test:
	@scripts/test.sh

setup:
	@scripts/setup.sh

migration:
	@scripts/migration.sh "$(MSG)"

initial-migration:
	@scripts/migration.sh --initial
