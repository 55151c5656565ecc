"""The kinds of refusal a domain action raises; each door shows them one way (CONTRACT §6).

A service raises a subclass of one of these and never an HTTP status: ``web/errors.py`` maps
the kind to the answer once (404, 409, 410, 422), the CLI prints the message. Every message is
safe to show: it says which form is expected and never repeats what was typed.

Each kind also derives from the built-in its callers caught before (``LookupError``,
``ValueError``), so code that reads a domain's own error keeps working.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path


class DomainError(Exception):
    """A refusal of an action: nothing was changed; the message is safe to show."""


class NotFoundError(DomainError, LookupError):
    """No such thing in this solution (another solution's is just as absent): 404."""


class ConflictError(DomainError):
    """The thing exists but its state forbids the action (done, duplicate, busy, held): 409."""


class GoneError(DomainError):
    """The thing existed and is gone for good (expired, erased): 410."""


class InvalidError(DomainError, ValueError):
    """Input that cannot be used: 422. ``field`` names the input field, where there is one."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def detail(self) -> str:
        """``field: message``: the form every 422 of the API takes."""
        return f"{self.field}: {self.message}" if self.field else self.message


def where(exc: BaseException) -> str:
    """The innermost archivist frame of a traceback as ``file:line``: enough to find a failure
    without logging its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}archivist{os.sep}" in f.filename] or frames
    if not ours:
        return "?"
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}"
