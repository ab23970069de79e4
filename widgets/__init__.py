"""Reusable Qt widgets that know nothing of this application."""
