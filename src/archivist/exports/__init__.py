"""The record of every subject-access export handed out, and its purge when an erasure makes it stale.

Below both the making of exports (``access``) and the erasure engine (``anonymize``): an erasure
forgets the exports that name what it erased without depending on how exports are made.
"""
