"""What the schedule exports share: the error of a bad file, atomic writes, Chinese labels.

Display names come from an organisation: a school's name, a post as ``"副局长 史芳"``, a
unit's name. An id the organisation does not know is shown as it is: an export names
what it can and never fails on display.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from dualduty.errors import DualdutyError, InvalidFile, Problem
from dualduty.model import Organisation
from dualduty.model.schedule import Deadline, DeadlineKind, Meeting, MeetingKind, Visit

__all__ = [
    "ANNOUNCED_LABELS",
    "DEADLINE_LABELS",
    "MEETING_LABELS",
    "VISIT_LABEL",
    "InvalidScheduleFile",
    "Names",
    "infer_year",
    "write_directory",
    "write_file",
]

#: The type (类型) of a visit, as the CSV and Excel files and the calendars write it.
VISIT_LABEL = "专门督查"
MEETING_LABELS: dict[MeetingKind, str] = {
    MeetingKind.TOPIC_STUDY: "专题研究",
    MeetingKind.COORDINATION: "调度会",
    MeetingKind.SUMMARY: "总结表彰会",
}
DEADLINE_LABELS: dict[DeadlineKind, str] = {
    DeadlineKind.QUARTER_REPORT: "季度书面报告",
}
#: ``Visit.announced`` as written: 明查 (announced) or 暗访 (unannounced).
ANNOUNCED_LABELS: dict[bool, str] = {True: "明查", False: "暗访"}

_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


class InvalidScheduleFile(InvalidFile):
    """A schedule file (CSV, Excel or JSON) that cannot be read; nothing of it is returned.

    The message names the file and, for each problem, where it is: ``row 7, 日期`` in a
    CSV file or an Excel sheet (rows counted as a spreadsheet shows them, the header
    being row 1), ``visits[3].date`` in a JSON document.

    :ivar problems: every problem found, in the order of the file.
    :ivar source: the file name (or the name given for data read from memory).
    """


# Raised by public functions of dualduty.io: shown (in tracebacks, in the docs) under the
# name users import it by.
InvalidScheduleFile.__module__ = "dualduty.io"


class Names:
    """Chinese display names of the ids a schedule holds, from an organisation (or none)."""

    def __init__(self, org: Organisation | None) -> None:
        self.schools: dict[str, str] = {}
        self.units: dict[str, str] = {}
        self.posts: dict[str, str] = {}
        if org is None:
            return
        people = {p.id: p.name for p in org.people}
        self.schools = {s.id: s.name for s in org.schools}
        self.units = {u.id: u.name for u in org.units}
        for unit in org.units:
            for post in unit.posts:
                holder = people.get(post.holder) if post.holder else None
                label = f"{post.title} {holder}" if holder else f"{post.title}（空缺）"
                self.posts[post.id] = label

    def school(self, school_id: str) -> str:
        """The school's name (its id when unknown)."""
        return self.schools.get(school_id, school_id)

    def unit(self, unit_id: str) -> str:
        """The unit's name (its id when unknown)."""
        return self.units.get(unit_id, unit_id)

    def post(self, post_id: str) -> str:
        """``"副局长 史芳"``: the post's title and its holder's name (its id when unknown)."""
        return self.posts.get(post_id, post_id)

    def holder(self, holder_id: str) -> str:
        """A package holder: a post (title and name) or a unit (its name)."""
        found = self.posts.get(holder_id)
        if found is not None:
            return found
        return self.units.get(holder_id, holder_id)

    def posts_of(self, post_ids: Iterable[str]) -> str:
        """Posts joined with the Chinese enumeration comma ``、``."""
        return "、".join(self.post(p) for p in post_ids)


def infer_year(
    visits: Iterable[Visit], meetings: Iterable[Meeting], deadlines: Iterable[Deadline], source: str
) -> int:
    """The year of the earliest date (a Q4 report may fall due in the next January)."""
    days = [v.date for v in visits] + [m.date for m in meetings] + [d.due for d in deadlines]
    if not days:
        raise InvalidScheduleFile(
            [Problem("", "the schedule is empty, so its year cannot be told: give the year")],
            source,
        )
    return min(days).year


def _cannot_write(path: str | os.PathLike[str], exc: OSError) -> DualdutyError:
    return DualdutyError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}")


def _tmp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def _create(path: Path, data: bytes) -> int:
    """Create *path* (which must not exist) holding *data*; the open descriptor, not synced."""
    # Mode 0o666 lets the umask decide, as for any new file (mkstemp's would be 0o600).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        raise
    return fd


def _keep_mode(source: Path, target: Path) -> None:
    """Give *source* the permissions of *target*, when *target* exists (a replaced file)."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return
    os.chmod(source, mode)


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write *data* to *path* atomically: a temporary file next to it, then a rename.

    The file is complete or left as it was; a replaced file keeps its permissions.

    :raises dualduty.DualdutyError: when the file cannot be written.
    """
    target = Path(path)
    tmp = _tmp_name(target)
    try:
        fd = _create(tmp, data)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _keep_mode(tmp, target)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: Files written before their data is flushed together (and their descriptors closed).
_BATCH = 64


def _write_all(directory: Path, files: Mapping[str, bytes]) -> None:
    """Create every file in *directory* and flush it to disk.

    The flushes run in threads, a batch of files at a time: the file system commits
    them together, about three times faster than one after another.
    """
    from concurrent.futures import ThreadPoolExecutor

    items = list(files.items())
    with ThreadPoolExecutor(max_workers=8) as pool:
        for start in range(0, len(items), _BATCH):
            fds: list[int] = []
            try:
                for name, data in items[start : start + _BATCH]:
                    fds.append(_create(directory / name, data))
                for _ in pool.map(os.fsync, fds):
                    pass
            finally:
                for fd in fds:
                    os.close(fd)


def write_directory(directory: str | os.PathLike[str], files: Mapping[str, bytes]) -> None:
    """Write *files* (name -> content) into *directory*, staged in a temporary directory.

    Every file is written and flushed in a temporary directory next to *directory*
    first, so an error (a full disk, a permission) leaves *directory* untouched. A new
    *directory* is then renamed into place at once; into an existing one each file is
    moved with an atomic rename, replacing the file of the same name. Other files in
    *directory* are left alone.

    :raises dualduty.DualdutyError: when the files cannot be written.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise DualdutyError(f"cannot write {os.fspath(directory)}: not a directory")
    staging = _tmp_name(target)
    try:
        staging.mkdir()
    except OSError as exc:
        raise _cannot_write(directory, exc) from None
    try:
        _write_all(staging, files)
        if not target.exists():
            try:
                staging.rename(target)
            except OSError:  # created meanwhile: move the files in one by one
                pass
            else:
                return
        for name in files:
            _keep_mode(staging / name, target / name)
            os.replace(staging / name, target / name)
    except OSError as exc:
        raise _cannot_write(directory, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
