"""The codec's fast paths give exactly what the plain standard-library way gives.

The reference here is the obvious implementation the codec started from: convert with
``astimezone``, write with ``isoformat``, subtract the epoch for the timestamp, decode
with ``fromisoformat(...).astimezone(zone)``, build the record with its validators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import zoneinfo
from pathlib import Path
from typing import Any

import attrs
import orjson
import pendulum
import pytest
from cattrs.errors import ClassValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from dualduty.records import Entry, Note, Record
from dualduty.storage import GENESIS, Row
from dualduty.storage._codec import (
    Codec,
    _fixed_tail,
    _plain_fields,
    _Zone,
    check_chain,
    plain,
    to_ts,
)

ZONES = (
    "Asia/Shanghai",  # the default: DST 1986-1991, fixed +08:00 since
    "Asia/Urumqi",
    "Europe/Berlin",  # daylight saving time every year
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",  # +05:45
    "Asia/Kolkata",
    "America/Sao_Paulo",  # DST until 2019
    "UTC",
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def reference_ts(at: dt.datetime) -> int:
    delta = plain(at) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def reference_at(at: dt.datetime, zone: dt.tzinfo) -> str:
    return plain(at).astimezone(zone).isoformat()


def reference_parse(text: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(zone)


def reference_row(record: Record, seq: int, prev: str, zone: zoneinfo.ZoneInfo) -> Row:
    from dualduty.io._converters import converter

    at = plain(record.at).astimezone(zone)
    body = orjson.dumps(
        {
            "actor": record.actor,
            "at": at.isoformat(),
            "data": converter("json").unstructure(record.data),
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
        reference_ts(at),
        record.subjects,
        body,
        hashlib.sha256(body).hexdigest(),
    )


def same_datetime(a: dt.datetime, b: dt.datetime) -> bool:
    """Equal as objects: wall reading, fold and time zone (``==`` ignores the fold)."""
    return (
        type(a) is type(b)
        and a.replace(tzinfo=None) == b.replace(tzinfo=None)
        and a.fold == b.fold
        and a.tzinfo is b.tzinfo
    )


def input_zones(store: str) -> list[dt.tzinfo]:
    """Zones the input times come in: the store's own (stdlib and pendulum), others, fixed."""
    return [
        zoneinfo.ZoneInfo(store),
        pendulum.timezone(store),
        zoneinfo.ZoneInfo("Europe/Berlin"),
        pendulum.timezone("America/New_York"),
        zoneinfo.ZoneInfo("Asia/Shanghai"),
        dt.UTC,
        dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
        dt.timezone(dt.timedelta(hours=5, minutes=45, seconds=7)),
    ]


def random_instants(rng: random.Random, tz: dt.tzinfo, n: int) -> list[dt.datetime]:
    """Wall readings in *tz* from 1880 to 2100 (gaps and folds included), some pendulum."""
    out: list[dt.datetime] = []
    lo = dt.datetime(1880, 1, 1).toordinal()
    hi = dt.datetime(2100, 1, 1).toordinal()
    for _ in range(n):
        if rng.random() < 0.5:  # most weight on the years a store really sees
            day = dt.date.fromordinal(rng.randrange(lo + 40_000, hi - 20_000))
        else:
            day = dt.date.fromordinal(rng.randrange(lo, hi))
        wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(
            seconds=rng.randrange(86_400),
            microseconds=rng.choice((0, 0, rng.randrange(1_000_000))),
        )
        at = wall.replace(tzinfo=tz, fold=rng.randrange(2))
        if isinstance(tz, pendulum.Timezone):
            at = pendulum.instance(at).replace(fold=at.fold)
        out.append(at)
    return out


def transitions(zone: zoneinfo.ZoneInfo, years: range) -> list[dt.datetime]:
    """UTC instants one minute apart around every offset change of *zone* in *years*."""
    out: list[dt.datetime] = []
    for year in years:
        t = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
        step = dt.timedelta(hours=1)
        while t < end:
            if t.astimezone(zone).utcoffset() != (t + step).astimezone(zone).utcoffset():
                out.extend(t + dt.timedelta(minutes=m) for m in range(-120, 180))
            t += step
    return out


# -- writing times ---------------------------------------------------------------------------


@pytest.mark.parametrize("store", ZONES)
def test_seal_time_matches_astimezone_isoformat(store: str) -> None:
    zone = zoneinfo.ZoneInfo(store)
    fast = _Zone(zone)
    rng = random.Random(store)
    for tz in input_zones(store):
        for at in random_instants(rng, tz, 1_500):
            text, ts = fast.seal(at)
            assert text == reference_at(at, zone), at
            assert ts == reference_ts(at), at


@pytest.mark.parametrize("store", ["Europe/Berlin", "Asia/Shanghai", "Australia/Lord_Howe"])
def test_seal_time_around_transitions(store: str) -> None:
    zone = zoneinfo.ZoneInfo(store)
    fast = _Zone(zone)
    instants = transitions(zone, range(1984, 1996)) + transitions(zone, range(2023, 2027))
    assert instants  # each of these zones changed its offset in those years
    for utc in instants:
        for tz in (zone, pendulum.timezone(store), dt.UTC, zoneinfo.ZoneInfo("Europe/Berlin")):
            at = utc.astimezone(tz)  # with the fold a wall reading needs
            if isinstance(tz, pendulum.Timezone):
                at = pendulum.instance(at)
            text, ts = fast.seal(at)
            assert text == reference_at(at, zone), at
            assert ts == reference_ts(at), at


def test_seal_time_of_wall_readings_in_gaps_and_folds() -> None:
    # 2025-03-30 02:30 does not exist in Berlin; 2025-10-26 02:30 exists twice.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    for store in ("Europe/Berlin", "Asia/Shanghai", "UTC"):
        fast = _Zone(zoneinfo.ZoneInfo(store))
        for month, day in ((3, 30), (10, 26)):
            for fold in (0, 1):
                for tz in (berlin, pendulum.timezone("Europe/Berlin")):
                    at = dt.datetime(2025, month, day, 2, 30, tzinfo=tz, fold=fold)
                    if isinstance(tz, pendulum.Timezone):
                        at = pendulum.instance(at).replace(fold=fold)
                    assert fast.seal(at) == (
                        reference_at(at, zoneinfo.ZoneInfo(store)),
                        reference_ts(at),
                    )


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=dt.datetime(1800, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from([zoneinfo.ZoneInfo(z) for z in ZONES]),
    ),
    store=st.sampled_from(ZONES),
)
def test_seal_time_any_instant(at: dt.datetime, store: str) -> None:
    zone = zoneinfo.ZoneInfo(store)
    assert _Zone(zone).seal(at) == (reference_at(at, zone), reference_ts(at))


def test_fixed_tail_of_zones() -> None:
    tail = _fixed_tail(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert tail is not None
    since, offset = tail
    assert offset == dt.timedelta(hours=8)
    assert dt.datetime(1991, 9, 1, tzinfo=dt.UTC) < EPOCH + dt.timedelta(seconds=since)
    assert EPOCH + dt.timedelta(seconds=since) < dt.datetime(1991, 10, 1, tzinfo=dt.UTC)
    assert _fixed_tail(zoneinfo.ZoneInfo("Europe/Berlin")) is None  # DST for ever
    utc = _fixed_tail(zoneinfo.ZoneInfo("UTC"))
    assert utc is not None
    assert utc[1] == dt.timedelta(0)


def test_zone_without_a_name_takes_the_standard_way() -> None:
    # a zone read from a file has no key to look its transitions up by
    found = [Path(d) / "Asia" / "Shanghai" for d in zoneinfo.TZPATH]
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        pytest.skip("no system zoneinfo files")
    with path.open("rb") as f:
        zone = zoneinfo.ZoneInfo.from_file(f)
    assert _fixed_tail(zone) is None
    fast = _Zone(zone)
    rng = random.Random(3)
    for at in random_instants(rng, zoneinfo.ZoneInfo("Asia/Shanghai"), 300):
        assert fast.seal(at) == (reference_at(at, zone), reference_ts(at))
        text = reference_at(at, zone)
        assert same_datetime(fast.parse(text), reference_parse(text, zone))


# -- reading times ---------------------------------------------------------------------------


@pytest.mark.parametrize("store", ZONES)
def test_parse_matches_fromisoformat_astimezone(store: str) -> None:
    zone = zoneinfo.ZoneInfo(store)
    fast = _Zone(zone)
    rng = random.Random(f"parse {store}")
    texts = [reference_at(at, zone) for at in random_instants(rng, zone, 2_000)]
    # written by a store in another zone, then read by this one
    texts += [reference_at(at, dt.UTC) for at in random_instants(rng, dt.UTC, 300)]
    texts += [reference_at(utc, zone) for utc in transitions(zone, range(1986, 1993))[:3_000:7]]
    for text in texts:
        got = fast.parse(text)
        assert same_datetime(got, reference_parse(text, zone)), text
        assert type(got) is dt.datetime
        assert got.tzinfo is zone


# -- to_ts -----------------------------------------------------------------------------------


def test_to_ts_is_exact() -> None:
    rng = random.Random(7)
    for tz in input_zones("Asia/Shanghai"):
        for at in random_instants(rng, tz, 1_000):
            assert to_ts(at) == reference_ts(at)
    for at in (
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(1970, 1, 1, 8, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
        pendulum.datetime(2025, 3, 30, 2, 30, 0, 1, tz="Europe/Berlin"),
    ):
        assert to_ts(at) == reference_ts(at)
    assert to_ts(dt.datetime(1970, 1, 1, 8, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))) == 0
    assert to_ts(dt.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)) == 1


def test_to_ts_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        to_ts(dt.datetime(2025, 1, 1))


# -- whole rows and entries ------------------------------------------------------------------


def records(n: int, seed: int = 0) -> list[Record]:
    rng = random.Random(seed)
    zones: list[Any] = [
        pendulum.timezone("Asia/Shanghai"),
        zoneinfo.ZoneInfo("Asia/Shanghai"),
        zoneinfo.ZoneInfo("Europe/Berlin"),
        dt.UTC,
    ]
    out = []
    for i in range(n):
        tz = rng.choice(zones)
        at = dt.datetime(2025, 1, 1, tzinfo=tz) + dt.timedelta(
            seconds=rng.randrange(366 * 86_400), microseconds=rng.choice((0, 123_456))
        )
        if isinstance(tz, pendulum.Timezone):
            at = pendulum.instance(at)
        subjects = [f"school:s{rng.randrange(40):04d}", f"unit:u{rng.randrange(5)}"]
        text = rng.choice(["消防通道堵塞，已当场整改", 'quote " and \\ and \n', "季度调度会纪要"])
        topic = rng.choice([None, "meeting", "检查"])
        out.append(
            Record.of(
                Note(f"{text} {i}", topic=topic),
                actor=f"p{rng.randrange(12):03d}",
                at=at,
                subjects=subjects[: rng.randrange(3)],
            )
        )
    return out


@pytest.mark.parametrize("store", ["Asia/Shanghai", "Europe/Berlin"])
def test_sealed_rows_are_the_reference_bytes(store: str) -> None:
    codec = Codec(store)
    zone = zoneinfo.ZoneInfo(store)
    prev = GENESIS
    for seq, record in enumerate(records(2_000), start=1):
        row = codec.seal(record, seq, prev)
        assert row == reference_row(record, seq, prev, zone)
        assert type(row) is Row
        assert type(row.body) is bytes
        prev = row.hash


def test_sealing_is_deterministic() -> None:
    batch = records(500, seed=1)
    first = [Codec().seal(r, i, GENESIS) for i, r in enumerate(batch, start=1)]
    again = [Codec().seal(r, i, GENESIS) for i, r in enumerate(batch, start=1)]
    assert first == again
    one = Codec()
    assert [one.seal(r, i, GENESIS) for i, r in enumerate(batch, start=1)] == first


def test_sealed_chain_verifies() -> None:
    codec = Codec()
    rows, prev = [], GENESIS
    for seq, record in enumerate(records(300, seed=2), start=1):
        row = codec.seal(record, seq, prev)
        rows.append(row)
        prev = row.hash
    assert check_chain(rows) == (300, None)


@pytest.mark.parametrize("store", ["Asia/Shanghai", "Europe/Berlin"])
def test_entries_are_what_the_validated_record_gives(store: str) -> None:
    codec = Codec(store)
    zone = zoneinfo.ZoneInfo(store)
    prev = GENESIS
    rows = []
    for seq, record in enumerate(records(1_000, seed=3), start=1):
        rows.append(codec.seal(record, seq, prev))
        prev = rows[-1].hash
    for _ in range(2):  # the second time, every actor and subject list is remembered
        for row, record in zip(rows, records(1_000, seed=3), strict=True):
            entry = codec.entry(row)
            doc = orjson.loads(row.body)
            expected = Entry(
                row.seq,
                Record(
                    record.kind,
                    record.actor,
                    reference_parse(doc["at"], zone),
                    record.data,
                    record.subjects,
                ),
                doc["prev"],
                row.hash,
            )
            assert entry == expected
            assert same_datetime(entry.record.at, expected.record.at)
            assert entry.record.at == record.at  # the same instant
            assert type(entry.record) is Record
            assert type(entry) is Entry


def tampered(row: Row, **changes: Any) -> Row:
    doc = orjson.loads(row.body)
    doc.update(changes)
    body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return row._replace(body=body, hash=hashlib.sha256(body).hexdigest())


def test_decoding_still_validates_what_it_has_not_seen() -> None:
    codec = Codec()
    row = codec.seal(records(1)[0], 1, GENESIS)
    codec.entry(row)  # its actor and subjects are now remembered as valid
    with pytest.raises(ValueError, match="actor"):
        codec.entry(tampered(row, actor="Not An Id"))
    with pytest.raises(ValueError, match="subjects"):
        codec.entry(tampered(row, subjects=["nowhere"]))
    with pytest.raises(KeyError, match="unknown record kind"):
        codec.entry(tampered(row, kind="no-such-kind"))
    with pytest.raises(ClassValidationError):
        codec.entry(tampered(row, data={"text": 3}))
    # duplicated subjects come back once, as the record's converter makes them
    twice = tampered(row, subjects=["school:s0001", "school:s0001"])
    assert codec.entry(twice).record.subjects == ("school:s0001",)
    assert codec.entry(twice).record.subjects == ("school:s0001",)  # remembered


def test_entry_time_from_a_store_in_another_zone() -> None:
    # written in Berlin, read by a store whose zone is Shanghai: same instant, Shanghai time
    berlin, shanghai = Codec("Europe/Berlin"), Codec("Asia/Shanghai")
    record = Record.of(
        Note("夏令时"),
        actor="p001",
        at=pendulum.datetime(2025, 7, 1, 12, tz="Europe/Berlin"),
    )
    entry = shanghai.entry(berlin.seal(record, 1, GENESIS))
    assert entry.record.at == record.at
    assert entry.record.at.tzinfo is shanghai.zone
    assert entry.record.at.isoformat() == "2025-07-01T18:00:00+08:00"


# -- the structure shortcut for plain kinds --------------------------------------------------


@attrs.frozen
class Counted:
    n: int
    label: str | None = None


@attrs.frozen
class Listed:
    items: tuple[str, ...] = ()


def outcome(fn: Any, value: Any, cls: type) -> Any:
    """What structuring *value* gives: the object, or the error's type and message."""
    try:
        return fn(value, cls)
    except Exception as exc:  # compared, not swallowed
        return type(exc), str(exc), [str(e) for e in getattr(exc, "exceptions", ())]


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (
            Note,
            [
                {"text": "消防通道堵塞"},
                {"text": "a", "topic": None},
                {"text": "a", "topic": "meeting"},
                {},
                {"topic": "x"},
                {"text": 1},
                {"text": " "},
                {"text": "a", "topic": 3},
                {"text": "a", "extra": 1},
                ["text"],
                None,
            ],
        ),
        (
            Counted,
            [
                {"n": 3},
                {"n": 3, "label": "x"},
                {"n": True},
                {"n": 3.0},
                {"n": "3"},
                {"label": "x"},
                {"n": 1, "label": 2},
            ],
        ),
    ],
)
def test_plain_fields_shortcut_gives_what_the_converter_gives(cls: type, values: list[Any]) -> None:
    from dualduty.io._converters import converter

    hook = converter("json").get_structure_hook(cls)
    fast = _plain_fields(cls, hook)
    assert fast is not hook  # the shortcut applies to these kinds
    for value in values:
        assert outcome(fast, value, cls) == outcome(hook, value, cls), value


def test_plain_fields_shortcut_leaves_other_kinds_to_the_converter() -> None:
    from dualduty.io._converters import converter

    hook = converter("json").get_structure_hook(Listed)
    assert _plain_fields(Listed, hook) is hook

    def own(value: Any, type_: Any) -> Any:
        return Note(str(value))

    assert _plain_fields(Note, own) is own  # a hook someone registered is kept


# -- the chain check names a malformed entry instead of failing ------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"at": "2025-01-01T00:00:00"}, "its time is missing, or not ISO 8601"),
        ({"at": "garbage"}, "its time is missing, or not ISO 8601"),
        ({"at": 3}, "its time is missing, or not ISO 8601"),
        ({"at": None}, "its time is missing, or not ISO 8601"),
        ({"actor": "p999"}, "its indexed columns differ from its content"),
        ({"seq": 2}, "its content says it is entry 2"),
    ],
)
def test_check_chain_reports_a_rehashed_malformed_entry(
    change: dict[str, Any], reason: str
) -> None:
    codec = Codec()
    first = codec.seal(records(1)[0], 1, GENESIS)
    assert check_chain([first]) == (1, None)
    bad = tampered(first, **change)  # re-hashed: only its content can tell
    good, why = check_chain([bad])
    assert good == 0
    assert why is not None
    assert why.startswith("entry 1: ")
    assert reason in why


def test_check_chain_reports_a_missing_time_and_non_objects() -> None:
    codec = Codec()
    row = codec.seal(records(1)[0], 1, GENESIS)
    doc = orjson.loads(row.body)
    del doc["at"]
    body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    missing = row._replace(body=body, hash=hashlib.sha256(body).hexdigest())
    assert check_chain([missing])[1] == (
        "entry 1: its time is missing, or not ISO 8601 with a zone offset"
    )
    listed = row._replace(body=b"[1,2]", hash=hashlib.sha256(b"[1,2]").hexdigest())
    assert check_chain([listed])[1] == "entry 1: its content is not an entry (a JSON object)"
