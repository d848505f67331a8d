"""Tiny Lambda handlers for the local-cloud tests (independent of the project's domain code)."""
