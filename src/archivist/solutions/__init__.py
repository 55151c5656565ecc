"""A solution's own settings: the action that changes them (above accounts, audit and archive)."""
