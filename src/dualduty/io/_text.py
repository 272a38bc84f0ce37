"""Reading a file as UTF-8 text, every failure as one :class:`~dualduty.errors.Problem`."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from dualduty.errors import Problem

__all__ = ["csv_rows", "decode_csv", "read_utf8"]


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


def decode_csv(raw: bytes) -> str | Problem:
    """The text of a CSV file: UTF-8 (a byte order mark dropped), else GB18030 — what
    Excel on a Chinese Windows saves "CSV" in — or why it is neither."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            return Problem("", f"not UTF-8 text (byte {exc.start}): save the file as CSV UTF-8")


def csv_rows(raw: bytes) -> list[Sequence[str]] | Problem:
    """The rows of a CSV file (:func:`decode_csv`), or the first problem found, with the
    row it is in. Callers wrap the problem in the error of their kind of file."""
    text = decode_csv(raw)
    if isinstance(text, Problem):
        return text
    rows: list[Sequence[str]] = []
    try:
        rows.extend(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return Problem(f"row {len(rows) + 1}", f"not valid CSV: {exc}")
    return rows
