"""Exceptions raised by dualduty.

Every error dualduty raises on purpose derives from :class:`DualdutyError`, so a
caller can catch them all in one place. Errors about input name the file and the
path inside it; the command line prints them without a traceback and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["DualdutyError", "InvalidFile", "InvalidOrganisation", "Problem"]


class DualdutyError(Exception):
    """Base class of every error dualduty raises on purpose."""


@attrs.frozen(order=True)
class Problem:
    """One problem found in an organisation or a file.

    ``path`` points inside the document, written the way the file is nested
    (``units[3].duties[2].area``); the empty string means the document as a whole.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidOrganisation(DualdutyError):
    """An organisation (or the file holding it) breaks one or more rules.

    :ivar problems: every problem found, in document order.
    :ivar source: the file name, or ``None`` when the organisation was built in Python.
    """

    problems: tuple[Problem, ...]
    source: str | None

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.source or "organisation"
        n = len(self.problems)
        head = f"{where}: {n} problem{'s' if n != 1 else ''} found"
        return "\n".join([head, *(f"  {where}: {p}" for p in self.problems)])


class InvalidFile(DualdutyError):
    """A file (a schedule, a ledger, …) that cannot be read; nothing of it was used.

    The message names the file and, for each problem, where it is in the file; with
    many problems, the first :attr:`shown` and how many more.

    :ivar problems: every problem found, in the order of the file.
    :ivar source: the file name (or the name given for data read from memory).
    """

    problems: tuple[Problem, ...]
    source: str
    shown = 20
    """How many problems the message lists."""

    def __init__(self, problems: Iterable[Problem], source: str) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        n, shown = len(self.problems), self.shown
        lines = [f"{self.source}: {n} problems found"]
        lines.extend(f"  {self.source}: {p}" for p in self.problems[:shown])
        if n > shown:
            lines.append(f"  … and {n - shown} more")
        return "\n".join(lines)
