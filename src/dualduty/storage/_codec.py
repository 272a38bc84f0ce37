"""Sealing records into rows and reading them back: canonical JSON and the hash chain.

The canonical JSON of an entry is its fields ``actor``, ``at``, ``data``, ``kind``,
``prev``, ``seq`` and ``subjects`` with keys sorted at every level, no insignificant
white space, UTF-8 text unescaped, ``at`` as ISO 8601 with the zone's offset. The hash
of an entry is the SHA-256 of those bytes, hex-encoded; ``prev`` chains it to the entry
before. The same bytes are what the store keeps, so verifying never re-encodes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterable
from typing import Any

import cattrs
import orjson

from dualduty.records.base import RECORD_KINDS, Entry, Record

from .base import GENESIS, MessageRow, Row

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def plain(at: dt.datetime) -> dt.datetime:
    """*at* as a standard-library datetime (pendulum's arithmetic is slow on a hot path)."""
    if type(at) is dt.datetime:
        return at
    return dt.datetime(
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond,
        tzinfo=at.tzinfo,
        fold=at.fold,
    )


def to_ts(at: dt.datetime) -> int:
    """Microseconds since the epoch (exact, no float rounding)."""
    delta = plain(at) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _converter() -> cattrs.Converter:
    from dualduty.io._converters import converter

    return converter("json")


class Codec:
    """Seals records for one time zone and decodes rows back into entries."""

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.conv = _converter()
        self._unstructure = self.conv.unstructure

    def seal(self, record: Record, seq: int, prev: str) -> Row:
        """The row of *record* at position *seq* after the entry hashed *prev*."""
        at = plain(record.at).astimezone(self.zone)
        data = self._unstructure(record.data)
        body = orjson.dumps(
            {
                "actor": record.actor,
                "at": at.isoformat(),
                "data": data,
                "kind": record.kind,
                "prev": prev,
                "seq": seq,
                "subjects": record.subjects,
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return Row(
            seq,
            record.kind,
            record.actor,
            to_ts(at),
            record.subjects,
            body,
            hashlib.sha256(body).hexdigest(),
        )

    def entry(self, row: Row) -> Entry:
        """The typed entry of a row (raises if the kind is unknown or the data invalid)."""
        doc: dict[str, Any] = orjson.loads(row.body)
        cls = RECORD_KINDS.get(doc["kind"])
        if cls is None:
            raise KeyError(f"entry {row.seq}: unknown record kind {doc['kind']!r}")
        at = dt.datetime.fromisoformat(doc["at"]).astimezone(self.zone)
        record = Record(
            doc["kind"],
            doc["actor"],
            at,
            self.conv.structure(doc["data"], cls),
            tuple(doc["subjects"]),
        )
        return Entry(row.seq, record, doc["prev"], row.hash)

    def message_body(self, message: Any) -> bytes:
        """The JSON of an outbox message."""
        return orjson.dumps(self._unstructure(message), option=orjson.OPT_SORT_KEYS)


def check_chain(rows: Iterable[Row], prev: str = GENESIS, seq: int = 0) -> tuple[int, str | None]:
    """Walk rows in order; return how many were good and, at the first bad one, why.

    Each row must follow the one before without a gap, its hash must be the SHA-256 of
    its body, its body must name the previous hash, and the columns a backend indexes
    (kind, actor, time, subjects) must say what the body says.
    """
    good = 0
    for row in rows:
        seq += 1
        where = f"entry {row.seq}"
        if row.seq != seq:
            return good, f"{where}: expected entry {seq} next (entries missing or out of order)"
        digest = hashlib.sha256(row.body).hexdigest()
        if digest != row.hash:
            return good, f"{where}: its content does not match its hash (altered after writing)"
        try:
            doc = orjson.loads(row.body)
        except orjson.JSONDecodeError:
            return good, f"{where}: its content is not JSON"
        if doc.get("prev") != prev:
            return good, f"{where}: does not follow the entry before (chain broken)"
        if doc.get("seq") != row.seq:
            return good, f"{where}: its content says it is entry {doc.get('seq')}"
        if (
            doc.get("kind") != row.kind
            or doc.get("actor") != row.actor
            or tuple(doc.get("subjects", ())) != tuple(row.subjects)
            or to_ts(dt.datetime.fromisoformat(doc["at"])) != row.ts
        ):
            return good, f"{where}: its indexed columns differ from its content"
        prev = row.hash
        good += 1
    return good, None


def new_message_row(seq: int, channel: str, recipient: str, body: bytes, now_ts: int) -> MessageRow:
    """A pending outbox row, before the backend assigns its id."""
    return MessageRow(0, seq, channel, recipient, body, "pending", 0, now_ts, now_ts, "")
