"""Retention rules and legal holds (CONTRACT §10): what goes by itself after a time, and what must stay."""
