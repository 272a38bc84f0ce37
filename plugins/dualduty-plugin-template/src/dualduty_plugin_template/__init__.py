"""A dualduty plugin to copy: a district's own channel, record kind and scoring rule.

dualduty finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.dualduty]
    district_template = "dualduty_plugin_template"

and calls the functions below marked ``@hookimpl`` (the hooks are documented in
dualduty's hook reference). Each shows one kind of thing a district adds:

- :class:`JsonLinesChannel` (``dualduty_register_channels``): a notification channel
  that appends each message as one JSON line to a file, a drop box that another system
  (an OA importer, a log shipper) picks up;
- :class:`SafetyDrill` (``dualduty_register_record_kinds``): a record of an emergency
  evacuation drill (应急疏散演练) held at a school;
- :class:`DrillRule` (``dualduty_register_scoring_rules``): a local year-end scoring
  rule that credits a section for the drills it organised, with the records as evidence.

Rename :data:`PREFIX` with the package: record kinds, channels and rules are global
names, and a prefix of your own keeps them from colliding with other plugins'.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from pathlib import Path

import attrs

from dualduty.notify import Channel, DeliveryResult, OutboxMessage
from dualduty.plugins import hookimpl
from dualduty.records import Record, record_kind, school, unit
from dualduty.scoring import ScoreItem, ScoringContext, ScoringRule, Veto

__all__ = [
    "DEFAULT_OUTBOX_FILE",
    "DRILL_KIND",
    "OUTBOX_FILE_ENV",
    "PREFIX",
    "DrillRule",
    "JsonLinesChannel",
    "SafetyDrill",
    "Scenario",
    "drill_record",
]

__version__ = "0.1.0"

#: The prefix of every name this plugin registers; rename it with the package.
PREFIX = "district_template"

#: The record kind of :class:`SafetyDrill`.
DRILL_KIND = f"{PREFIX}.drill"

#: The environment variable naming the file :class:`JsonLinesChannel` appends to.
OUTBOX_FILE_ENV = "DUALDUTY_TEMPLATE_OUTBOX_FILE"
#: The file it appends to when neither the constructor nor the environment names one.
DEFAULT_OUTBOX_FILE = "dualduty-notifications.jsonl"

# Errors that retrying will not fix: the path is wrong or not ours to write.
_PERMANENT = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS}


# -- a notification channel ------------------------------------------------------------------


class JsonLinesChannel:
    """Appends each notification to a file as one line of JSON (UTF-8).

    The line holds the message's fields and when it was written::

        {"channel": "district_template.jsonl", "recipient": "zhao", "title": "…",
         "text": "…", "markdown": null, "urgent": true,
         "written_at": "2025-03-14T01:30:00+00:00"}

    A line is written with one call and flushed to disk before the delivery is
    reported, so a reader never sees half a line and a reported delivery is durable.

    :param path: the file; by default the one named by ``DUALDUTY_TEMPLATE_OUTBOX_FILE``,
        read at each delivery, else ``dualduty-notifications.jsonl`` in the working
        directory.
    """

    name = f"{PREFIX}.jsonl"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = None if path is None else Path(path)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The file the next delivery appends to."""
        if self._path is not None:
            return self._path
        return Path(os.environ.get(OUTBOX_FILE_ENV) or DEFAULT_OUTBOX_FILE)

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Append *message*; a missing directory or no permission is not worth retrying."""
        line = json.dumps(
            {
                "channel": message.channel,
                "recipient": message.recipient,
                "title": message.title,
                "text": message.text,
                "markdown": message.markdown,
                "urgent": message.urgent,
                "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            ensure_ascii=False,
        )
        path = self.path
        try:
            with self._lock, path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, "OSError")
            detail = f"cannot append to {str(path)!r}: {exc.strerror or exc}"
            if exc.errno in _PERMANENT:
                return DeliveryResult.failed(detail, provider_code=code)
            return DeliveryResult.retry(detail, provider_code=code)  # a full disk, an I/O error
        return DeliveryResult.ok(detail=f"appended to {path}")


# -- a record kind -------------------------------------------------------------------------------


class Scenario(StrEnum):
    """What a drill rehearses."""

    FIRE = "fire"
    EARTHQUAKE = "earthquake"
    FLOOD = "flood"
    INTRUDER = "intruder"


def _positive(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name}: expected a whole number >= 1, got {value!r}")


@record_kind(DRILL_KIND)
@attrs.frozen
class SafetyDrill:
    """An emergency evacuation drill (应急疏散演练) held at a school.

    Append it with the school and the organising unit as subjects (see
    :func:`drill_record`), so it can be read back by either.

    :param scenario: what was rehearsed.
    :param participants: how many students and staff took part.
    :param evacuation_seconds: from the alarm until everyone was assembled.
    :param remarks: what went wrong or well.
    """

    scenario: Scenario
    participants: int = attrs.field(validator=_positive)
    evacuation_seconds: int = attrs.field(validator=_positive)
    remarks: str = ""

    @classmethod
    def examples(cls) -> Sequence[SafetyDrill]:
        """Instances dualduty's conformance kit round-trips through every store."""
        return (
            cls(Scenario.FIRE, 1200, 185, "三号楼楼梯口拥堵，已调整疏散路线"),
            cls(Scenario.EARTHQUAKE, 640, 150),
        )


def drill_record(
    drill: SafetyDrill,
    *,
    school_id: str,
    unit_id: str,
    actor: str,
    at: dt.datetime | None = None,
) -> Record:
    """A record of *drill* at school *school_id*, organised by unit *unit_id*."""
    return Record.of(drill, actor=actor, at=at, subjects=[school(school_id), unit(unit_id)])


# -- a scoring rule ---------------------------------------------------------------------------


class DrillRule:
    """Credits a unit for the drills it organised in the year (制度落实).

    Each drill recorded with the unit as a subject earns *points_per_drill*, up to
    *most* drills; a unit with none loses *missing_penalty*. Every item names the
    records it rests on.

    :param points_per_drill: credit for each drill.
    :param most: how many drills count.
    :param missing_penalty: the deduction when there is none.
    """

    id = f"{PREFIX}.drills"
    category = "system_implementation"

    def __init__(
        self, points_per_drill: float = 1.0, most: int = 4, missing_penalty: float = 2.0
    ) -> None:
        self.points_per_drill = points_per_drill
        self.most = most
        self.missing_penalty = missing_penalty

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        """One item for the unit in *context*: credit for its drills, or a deduction."""
        store = context.store
        if store is None:  # nothing recorded to judge by
            return []
        seqs = [
            entry.seq
            for entry in store.read(
                kind=DRILL_KIND,
                subject=unit(context.unit),
                since=dt.date(context.year, 1, 1),
                until=dt.date(context.year + 1, 1, 1),
            )
        ]
        if not seqs:
            return [
                ScoreItem(
                    self.id,
                    self.category,
                    -self.missing_penalty,
                    f"no emergency drill recorded for {context.unit} in {context.year}",
                )
            ]
        counted = seqs[: self.most]
        more = f" ({len(seqs)} held, {self.most} count)" if len(seqs) > self.most else ""
        return [
            ScoreItem(
                self.id,
                self.category,
                self.points_per_drill * len(counted),
                f"{len(counted)} emergency drill(s) organised in {context.year}{more}",
                evidence=tuple(counted),
            )
        ]


# -- the hooks ------------------------------------------------------------------------------------


@hookimpl
def dualduty_register_channels(register: Callable[[Channel], None]) -> None:
    """The JSON-lines channel."""
    register(JsonLinesChannel())


@hookimpl
def dualduty_register_record_kinds(register: Callable[[type], None]) -> None:
    """The drill record kind."""
    register(SafetyDrill)


@hookimpl
def dualduty_register_scoring_rules(register: Callable[[ScoringRule], None]) -> None:
    """The drill scoring rule."""
    register(DrillRule())
