"""Alembic migrations of the state store, applied at start-up and by ``prodguardian db upgrade``."""
