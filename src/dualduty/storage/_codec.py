"""Sealing records into rows and reading them back: canonical JSON and the hash chain.

The canonical JSON of an entry is its fields ``actor``, ``at``, ``data``, ``kind``,
``prev``, ``seq`` and ``subjects`` with keys sorted at every level, no insignificant
white space, UTF-8 text unescaped, ``at`` as ISO 8601 with the zone's offset. The hash
of an entry is the SHA-256 of those bytes, hex-encoded; ``prev`` chains it to the entry
before. The same bytes are what the store keeps, so verifying never re-encodes.

Sealing and decoding are the store's hot path (a million records in one load, a year
of a district read back at once), so this module avoids what is slow on it:

- time zones: the obvious ``at.astimezone(zone).isoformat()`` costs several
  microseconds on a pendulum date and time. Most zones have not changed their offset
  for decades and have no daylight saving time (Asia/Shanghai: none since 1991), so
  :class:`_Zone` finds, once per zone, the instant from which its offset never changes
  again and converts anything after it with integer arithmetic. Anything before it, and
  every zone with daylight saving time, takes the standard library's conversion, which
  is exact for every zone;
- cattrs: the (un)structure function of each record kind is looked up once, not
  dispatched for every record; kinds of plain fields (text, whole numbers) are checked
  and built directly when decoding (:func:`_plain_fields`);
- the record envelope: the actors and subjects of stored entries are validated once
  (by :class:`~dualduty.records.Record` itself) and remembered, so decoding does not
  run the same regular expressions on every entry of a district;
- memory: orjson's output is copied into a right-sized ``bytes`` (see :meth:`Codec.seal`).

Every fast path gives exactly what the plain way gives (``tests/test_codec.py`` checks
it against that way, instant by instant, in zones with and without daylight saving).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import types
import typing
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs
import cattrs
import orjson

from dualduty.records.base import RECORD_KINDS, Entry, Record

from .base import GENESIS, MessageRow, Row

_T = TypeVar("_T")

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_EPOCH_DAYS = _EPOCH_NAIVE.toordinal()
_US = 1_000_000
_ONE_US = dt.timedelta(microseconds=1)
_DAY_US = 86_400 * _US
_MAX_WALL_US = (dt.datetime.max - _EPOCH_NAIVE) // dt.timedelta(microseconds=1)
_HH_MM = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]  # by minute of the day
_SS = [f"{s:02d}" for s in range(60)]

# Unbound standard-library methods: pendulum overrides some of them (``time()``,
# ``astimezone()``) in Python, and these work on its subclasses at C speed.
_toordinal = dt.datetime.toordinal
_date_iso = dt.date.isoformat
_time_of = dt.datetime.time
_time_iso = dt.time.isoformat
_fromiso = dt.datetime.fromisoformat
_combine = dt.datetime.combine


_sha256 = hashlib.sha256
_new_row: Callable[[type[Row], tuple[Any, ...]], Row] = tuple.__new__


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


def _wall_us(at: dt.datetime) -> int:
    """The wall-clock reading of *at* as microseconds since 1970-01-01 00:00, zone ignored."""
    return (
        (_toordinal(at) - _EPOCH_DAYS) * 86_400 + at.hour * 3_600 + at.minute * 60 + at.second
    ) * _US + at.microsecond


def _offset_us(at: dt.datetime) -> int:
    """The UTC offset of *at* in microseconds."""
    off = at.utcoffset()
    if off is None:
        raise ValueError(f"{at!r} has no time zone")
    return (off.days * 86_400 + off.seconds) * _US + off.microseconds


def to_ts(at: dt.datetime) -> int:
    """Microseconds since the epoch (exact, no float rounding).

    :raises ValueError: if *at* has no time zone.
    """
    return _wall_us(at) - _offset_us(at)


def _naive_iso(wall_us: int) -> str:
    """ISO 8601 of a wall-clock reading in microseconds since 1970-01-01 00:00."""
    return (_EPOCH_NAIVE + dt.timedelta(microseconds=wall_us)).isoformat()


def _fixed_tail(zone: zoneinfo.ZoneInfo) -> tuple[int, dt.timedelta] | None:
    """``(since, offset)``: from *since* (UTC seconds) on, *zone*'s offset is *offset* forever.

    ``None`` when the zone keeps changing its offset (daylight saving time), or when its
    transitions cannot be read. They are read with the standard library's pure-Python
    ``zoneinfo`` implementation, which loads the same files as the C one; the C one does
    not expose them. The answer is then checked against the zone itself.
    """
    key: str | None = zone.key  # typeshed says str, but from_file() zones have None
    if key is None:  # ZoneInfo.from_file(): no name to load the transitions by
        return None
    try:
        pure = importlib.import_module("zoneinfo._zoneinfo")
        ref = pure.ZoneInfo.no_cache(key)
        after = ref._tz_after
        transitions: list[int] = list(ref._trans_utc)
        ttinfos = list(ref._ttinfos)
        if not isinstance(after, pure._ttinfo):  # a rule with daylight saving time
            return None
        offset = after.utcoff
        if not isinstance(offset, dt.timedelta):
            return None
        if ttinfos and ttinfos[-1].utcoff != offset:
            return None  # the file and its footer disagree: leave it to the zone itself
    except Exception:  # private API gone or changed: no fast path, still correct
        return None
    since = (
        transitions[-1] + 1
        if transitions
        else (dt.datetime.min.toordinal() - _EPOCH_DAYS + 2) * 86_400
    )
    # Check the answer against the zone the store really uses, at its start and beyond.
    for ts in (since, since + 86_400, since + 400 * 86_400, 4_102_444_800, 253_370_000_000):
        if ts < since:
            continue
        try:
            local = (_EPOCH + dt.timedelta(seconds=ts)).astimezone(zone)
        except OverflowError:  # near the ends of the datetime range
            continue
        if local.utcoffset() != offset:
            return None
    return since, offset


class _Zone:
    """The store's time zone, with a fast path where its offset no longer changes."""

    def __init__(self, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        self.key: str | None = zone.key
        self._alias: object = zone  # the last other tzinfo found to be this zone
        tail = _fixed_tail(zone)
        if tail is None:  # no fast path: every instant takes the standard conversion
            self.since_ts = self.since_wall = 1 << 80
            self.offset_us = 0
            self.suffix = "\x00"  # matches no ISO 8601 text
        else:
            since, offset = tail
            self.offset_us = (offset.days * 86_400 + offset.seconds) * _US + offset.microseconds
            self.since_ts = since * _US
            # Wall-clock readings from here on are neither in a gap nor in a fold of the
            # last transition: an offset change is less than two days either way.
            self.since_wall = self.since_ts + self.offset_us + 2 * _DAY_US
            # the offset exactly as datetime.isoformat() writes it ("+08:00", "+05:45")
            self.suffix = dt.datetime(2000, 1, 1, tzinfo=dt.timezone(offset)).isoformat()[19:]
        # the first day all of whose readings are past since_wall
        self.since_day = self.since_wall // _DAY_US + _EPOCH_DAYS + 1
        self._dates: dict[int, str] = {}  # "2025-03-04T" by day (proleptic ordinal)
        self.since_naive = _EPOCH_NAIVE + dt.timedelta(
            microseconds=min(self.since_wall, _MAX_WALL_US)
        )

    def same(self, tz: object) -> bool:
        """Whether *tz* is this zone (a ``ZoneInfo`` of the same name, pendulum's included)."""
        if tz is self.zone or tz is self._alias:
            return True
        if isinstance(tz, zoneinfo.ZoneInfo) and self.key is not None and tz.key == self.key:
            self._alias = tz  # pendulum's Timezone of the same name, say: one object per name
            return True
        return False

    def seal(self, at: dt.datetime) -> tuple[str, int]:
        """*at* in this zone as ISO 8601 text, and as microseconds since the epoch."""
        days = _toordinal(at)
        tz = at.tzinfo
        if days >= self.since_day and (tz is self.zone or tz is self._alias or self.same(tz)):
            # Already in this zone, where the offset is fixed: the reading stays as it is,
            # written as datetime.isoformat() writes it.
            minute = at.hour * 60 + at.minute
            second = at.second
            us = at.microsecond
            ts = (((days - _EPOCH_DAYS) * 1_440 + minute) * 60 + second) * _US + us
            date = self._dates.get(days)
            if date is None:
                date = self._date(days)
            if us:
                text = f"{date}{_HH_MM[minute]}{_SS[second]}.{us:06d}{self.suffix}"
            else:
                text = date + _HH_MM[minute] + _SS[second] + self.suffix
            return text, ts - self.offset_us
        wall = _wall_us(at)
        ts = wall - _offset_us(at)
        if tz is self.zone:
            # astimezone() to a datetime's own zone keeps its reading as it is, even one
            # that falls in a gap (02:30 on the day clocks jump from 02:00 to 03:00)
            return plain(at).isoformat(), ts
        if ts >= self.since_ts:
            return _naive_iso(ts + self.offset_us) + self.suffix, ts
        local = (_EPOCH + dt.timedelta(microseconds=ts)).astimezone(self.zone)
        return local.isoformat(), ts

    def _date(self, days: int) -> str:
        if len(self._dates) >= 100_000:
            self._dates.clear()
        date = self._dates[days] = dt.date.fromordinal(days).isoformat() + "T"
        return date

    def parse(self, text: str) -> dt.datetime:
        """The stored ISO 8601 *text* as a standard-library datetime in this zone."""
        if type(text) is str and text.endswith(self.suffix) and text[10:11] == "T":
            naive = _fromiso(text[: -len(self.suffix)])
            if naive.tzinfo is None and naive >= self.since_naive:
                return _combine(naive, _time_of(naive), self.zone)  # faster than replace()
        return _fromiso(text).astimezone(self.zone)


def _direct(cls: type[_T], names: tuple[str, ...]) -> Callable[..., _T]:
    """A function building an attrs *cls* from its fields *names* in order, without ``__init__``.

    ``__init__`` runs the validators and converters, which is what decoding saves where
    it knows they hold. Falls back to ``cls`` itself unless the class is exactly what
    this expects (slotted, those fields, no post-init).
    """
    fields = tuple(a.name for a in attrs.fields(cls))  # type: ignore[arg-type]
    setters = [cls.__dict__.get(name) for name in names]
    if (
        fields != names
        or len(names) not in (4, 5)
        or hasattr(cls, "__attrs_pre_init__")
        or hasattr(cls, "__attrs_post_init__")
        or not all(isinstance(d, types.MemberDescriptorType) for d in setters)
    ):
        return cls
    a, b, c, d, *rest = (s.__set__ for s in setters)  # type: ignore[union-attr]
    e = rest[0] if rest else None
    new = object.__new__

    def build4(v0: Any, v1: Any, v2: Any, v3: Any) -> _T:
        obj = new(cls)
        a(obj, v0)
        b(obj, v1)
        c(obj, v2)
        d(obj, v3)
        return obj

    def build5(v0: Any, v1: Any, v2: Any, v3: Any, v4: Any) -> _T:
        obj = new(cls)
        a(obj, v0)
        b(obj, v1)
        c(obj, v2)
        d(obj, v3)
        e(obj, v4)  # type: ignore[misc]
        return obj

    return build5 if e is not None else build4


_record = _direct(Record, ("kind", "actor", "at", "data", "subjects"))
_entry = _direct(Entry, ("seq", "record", "prev", "hash"))


#: Field types :func:`_plain_fields` checks itself: the converter passes them through.
_PLAIN_TYPES = (str, int)
_NONE = type(None)


def _plain_fields(cls: type, hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """*hook* (the converter's structure function of *cls*), with a shortcut for plain data.

    For a record kind whose fields are all text or whole numbers, or ``None`` beside
    them (:class:`~dualduty.records.Note`), the converter only checks each value's
    type, the keys, and calls the class. The shortcut does the same checks and calls
    the class directly; anything else it leaves to *hook*, which then raises the
    converter's own error (or builds what it builds). Kinds with dates, enums,
    collections or nested classes, or with a hook of their own, always take *hook*.
    """
    if getattr(hook, "__qualname__", None) != "_structure_table.<locals>.structure":
        return hook  # not the converter's generic attrs hook: someone registered their own
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: leave it to the converter
        return hook
    allowed: dict[str, tuple[type, ...]] = {}
    required = set()
    for a in attrs.fields(cls):
        if not a.init or a.alias != a.name:
            return hook
        t = hints.get(a.name)
        args = typing.get_args(t)
        if t in _PLAIN_TYPES:
            allowed[a.name] = (t,)
        elif (
            typing.get_origin(t) in (typing.Union, types.UnionType)
            and len(args) == 2
            and _NONE in args
            and (args[0] if args[1] is _NONE else args[1]) in _PLAIN_TYPES
        ):
            allowed[a.name] = (args[0] if args[1] is _NONE else args[1], _NONE)
        else:
            return hook
        if a.default is attrs.NOTHING:
            required.add(a.name)
    names = frozenset(allowed)
    needed = frozenset(required)

    def structure(value: Any, type_: Any) -> Any:
        if type(value) is dict and needed <= value.keys() and value.keys() <= names:
            for key, item in value.items():
                if type(item) not in allowed[key]:  # exact: no bool for int, no subclasses
                    break
            else:
                try:
                    return cls(**value)
                except Exception:  # the converter raises it as its own error below
                    pass
        return hook(value, type_)

    return structure


def _converter() -> cattrs.Converter:
    from dualduty.io._converters import converter

    return converter("json")


#: Decoding remembers this many validated actors and subject lists before starting over.
_MEMO = 65_536


class Codec:
    """Seals records for one time zone and decodes rows back into entries."""

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.zone = zoneinfo.ZoneInfo(timezone)
        self._zone = _Zone(self.zone)
        self.conv = _converter()
        self._unstructure = self.conv.unstructure
        self._unstructurers: dict[type, Callable[[Any], Any]] = {}
        self._structurers: dict[str, tuple[type, Callable[[Any, Any], Any]]] = {}
        self._actors: set[str] = set()
        self._subjects: dict[tuple[str, ...], tuple[str, ...]] = {}

    def seal(self, record: Record, seq: int, prev: str) -> Row:
        """The row of *record* at position *seq* after the entry hashed *prev*."""
        at, ts = self._zone.seal(record.at)
        data = record.data
        cls = type(data)
        unstructure = self._unstructurers.get(cls)
        if unstructure is None:
            unstructure = self._unstructurers[cls] = self.conv.get_unstructure_hook(cls)
        kind = record.kind
        actor = record.actor
        subjects = record.subjects
        doc = {
            "actor": actor,
            "at": at,
            "data": unstructure(data),
            "kind": kind,
            "prev": prev,
            "seq": seq,
            "subjects": subjects,
        }
        # orjson writes into a large buffer and shrinks it; copying the few hundred
        # bytes lets that buffer be reused at once. Keeping 10,000 shrunken buffers
        # (a batch) costs fresh memory pages and makes sealing twice as slow.
        body = bytes(memoryview(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)))
        return _new_row(Row, (seq, kind, actor, ts, subjects, body, _sha256(body).hexdigest()))

    def entry(self, row: Row) -> Entry:
        """The typed entry of a row (raises if the kind is unknown or the data invalid)."""
        doc: dict[str, Any] = orjson.loads(row.body)
        kind = doc["kind"]
        found = self._structurers.get(kind)
        if found is None or RECORD_KINDS.get(kind) is not found[0]:
            cls = RECORD_KINDS.get(kind)
            if cls is None:
                raise KeyError(f"entry {row.seq}: unknown record kind {kind!r}")
            hook = _plain_fields(cls, self.conv.get_structure_hook(cls))
            found = self._structurers[kind] = (cls, hook)
        cls, structure = found
        data = structure(doc["data"], cls)
        at = self._zone.parse(doc["at"])
        actor = doc["actor"]
        raw = tuple(doc["subjects"])
        subjects = self._subjects.get(raw)
        if subjects is not None and actor in self._actors and type(data) is cls:
            # The kind is registered and the data of its class (both looked up above), the
            # time is aware (parsed above), the actor and subjects were validated before
            # (below): what Record's validators check holds, so skip them.
            record = _record(kind, actor, at, data, subjects)
        else:
            record = Record(kind, actor, at, data, raw)  # validates actor and subjects
            if len(self._subjects) >= _MEMO or len(self._actors) >= _MEMO:
                self._subjects.clear()
                self._actors.clear()
            self._subjects[raw] = record.subjects
            self._actors.add(actor)
        return _entry(row.seq, record, doc["prev"], row.hash)

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
    sha256 = hashlib.sha256
    loads = orjson.loads
    for row in rows:
        seq += 1
        if row.seq != seq:
            return good, (
                f"entry {row.seq}: expected entry {seq} next (entries missing or out of order)"
            )
        body = row.body
        if sha256(body).hexdigest() != row.hash:
            return good, f"entry {seq}: its content does not match its hash (altered after writing)"
        try:
            doc = loads(body)
        except orjson.JSONDecodeError:
            return good, f"entry {seq}: its content is not JSON"
        if not isinstance(doc, dict):
            return good, f"entry {seq}: its content is not an entry (a JSON object)"
        if doc.get("prev") != prev:
            return good, f"entry {seq}: does not follow the entry before (chain broken)"
        if doc.get("seq") != seq:
            return good, f"entry {seq}: its content says it is entry {doc.get('seq')}"
        try:
            # microseconds since the epoch, exactly as to_ts() gives (a naive time fails)
            ts = (_fromiso(doc["at"]) - _EPOCH) // _ONE_US
        except (KeyError, TypeError, ValueError):
            return good, f"entry {seq}: its time is missing, or not ISO 8601 with a zone offset"
        if (
            doc.get("kind") != row.kind
            or doc.get("actor") != row.actor
            or ts != row.ts
            or tuple(doc.get("subjects", ())) != tuple(row.subjects)
        ):
            return good, f"entry {seq}: its indexed columns differ from its content"
        prev = row.hash
        good += 1
    return good, None


def new_message_row(
    seq: int,
    channel: str,
    recipient: str,
    body: bytes,
    now_ts: int,
    *,
    key: str | None = None,
    urgent: bool = False,
    due_ts: int | None = None,
) -> MessageRow:
    """A pending outbox row, before the backend assigns its id (due at *due_ts*, or now)."""
    return MessageRow(
        0,
        seq,
        channel,
        recipient,
        body,
        "pending",
        0,
        now_ts if due_ts is None else due_ts,
        now_ts,
        "",
        key,
        urgent,
    )
