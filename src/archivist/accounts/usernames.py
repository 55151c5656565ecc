"""What a username may be, and the folded key that makes usernames unique case-insensitively.

One rule for the Users page, the CLI and the migration that introduced the key: ``ADMIN``
and ``admin`` are one name, so nobody can create a look-alike of an account or lock it out
by failing logins under another spelling (CONTRACT §14).
"""

from __future__ import annotations

import functools
import unicodedata

import icu

MAX_USERNAME_LENGTH = 100
# Besides letters and digits (any script): what logins usually hold (e-mail-like names,
# first.last, initials-with-dash). No spaces, no markup, no quotes, no control characters.
USERNAME_PUNCTUATION = frozenset("._-@+")
USERNAME_RULE = f"a username is 1 to {MAX_USERNAME_LENGTH} letters, digits or . _ - @ + (no spaces or markup)"


class UsernameError(ValueError):
    """A username that cannot be used; the message is safe to show (it never repeats the input)."""


def fold_username(username: str) -> str:
    """The key two usernames share exactly when they are one name for a person logging in.

    NFKC first, so that a full-width or composed look-alike folds with its plain form; then
    ``casefold`` (not ``lower``), so that e.g. ``STRASSE`` and ``straße`` are one name too.
    """
    return unicodedata.normalize("NFKC", username.strip()).casefold()


@functools.cache
def _spoof_checker() -> icu.SpoofChecker:
    return icu.SpoofChecker()


def confusable_skeleton(username: str) -> str:
    """The Unicode TS 39 skeleton of the folded name (ICU's implementation of the standard's data).

    Two names with one skeleton look alike to a reader: ``а_admin`` with a Cyrillic ``а`` and
    ``a_admin``, ``rnary`` and ``mary``. Folding first makes the comparison ignore case as
    uniqueness does, and again after, as the prototypes keep case. Skeletons are for comparing
    only, never shown or stored.
    """
    # Folded after too: the standard's prototypes keep case (a digit 0 reads as a capital O).
    return fold_username(str(_spoof_checker().getSkeleton(0, fold_username(username))))


def validate_username(username: str) -> str:
    """The username as it will be stored (trimmed), or UsernameError saying what is allowed."""
    name = username.strip()
    if not 1 <= len(name) <= MAX_USERNAME_LENGTH:
        raise UsernameError(USERNAME_RULE)
    if not all(ch.isalnum() or ch in USERNAME_PUNCTUATION for ch in name):
        raise UsernameError(USERNAME_RULE)
    return name
