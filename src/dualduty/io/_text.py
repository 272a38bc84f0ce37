"""Reading a file as UTF-8 text, every failure as one :class:`~dualduty.errors.Problem`."""

from __future__ import annotations

import os
from pathlib import Path

from dualduty.errors import Problem

__all__ = ["read_utf8"]


def read_utf8(path: str | os.PathLike[str], what: str = "the file") -> str | Problem:
    """The text of *path* (a UTF-8 byte order mark dropped), or why it cannot be read.

    Callers wrap the problem in the error of their kind of file, with its name; *what*
    names the file in the message (``cannot read <what>: …``).
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return Problem("", f"cannot read {what}: {exc.strerror or exc}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Problem("", f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")
