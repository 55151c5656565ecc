"""Administering a solution: the actions on its settings, users and API tokens (above accounts and audit)."""
