"""Persistence of the dispatch backend (SQLAlchemy; SQLite or PostgreSQL)."""
