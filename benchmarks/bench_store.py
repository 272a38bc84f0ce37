"""The SQLite store against plain ``sqlite3`` on the same rows, in one run.

Three measures, each with the practical limit measured beside it (issue 3's goals):

(a) bulk append: records appended in transactions of ``--batch`` records with
    ``Store.extend``, against ``executemany`` of the *same* sealed rows (the bytes
    dualduty wrote, read back from its file) into a fresh file with the same tables and
    indexes and the same pragmas (WAL, synchronous=FULL), one transaction per batch.
    Both files grow side by side: batch by batch, dualduty first, then plain.
    Goal: dualduty reaches >= 25% of the plain rate.
(b) single-record durable transactions: ``Store.append`` of one record per
    transaction for ``--seconds``; plain ``sqlite3`` commits the same rows one by one.
    Goal: >= 1,000 transactions per second.
(c) reading a year of one district's records (``--district`` records) back into typed
    entries with ``Store.read()``; also by subject and by kind and period. Goal: the
    whole year in < 0.5 s. Plain ``sqlite3`` fetching the same rows is the reference.
(d) verifying the store of (a): ``Store.verify()`` on it opened read-only, as
    ``dualduty verify`` does (the chain, the indexed columns and the subject index).
    The reference is plain ``sqlite3`` fetching every row and checking each body's
    SHA-256 against its hash: what any check of the chain must at least do.

Records are realistic notes (the only record kind so far): Chinese text about the
district's schools and sections, one or two subjects (``school:`` / ``unit:``), times
spread over 2025 in Asia/Shanghai as pendulum date-times (what ``Record.of`` gives),
in the order they would be recorded. Building them is not timed. The generator is
seeded: two runs append the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pendulum

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation
from timing import median_seconds, sig, verdict

from dualduty.records import Note, Record
from dualduty.storage import Store, open_store

YEAR = 2025
ZONE = "Asia/Shanghai"
GOAL_BULK_RATIO = 0.25
GOAL_SINGLE_TPS = 1_000.0
GOAL_READ_SECONDS = 0.5
PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL")

PLACES = (
    "食堂后厨",
    "学生宿舍",
    "教学楼三楼走廊",
    "实验室药品柜",
    "配电房",
    "体育馆看台",
    "校门口",
    "校车停车场",
    "图书馆",
    "在建综合楼工地",
    "锅炉房",
    "游泳池",
)
FINDINGS = (
    "消防通道堵塞",
    "灭火器压力不足",
    "应急照明灯损坏",
    "危化品台账与实物不符",
    "电线私拉乱接",
    "护栏松动",
    "监控探头离线",
    "食品留样记录缺失",
    "校车安全带损坏",
    "施工围挡不严",
    "疏散指示标志被遮挡",
    "门卫值班记录不全",
)
ACTIONS = (
    "已当场整改",
    "责令三日内整改",
    "已下达整改通知书，限期一周",
    "已报领导小组办公室",
    "整改完成，复查合格",
    "已约谈校长，纳入月度督查",
)
MEETINGS = (
    "季度安全工作调度会纪要：各科室汇报分包学校督查情况",
    "专题研究校园食品安全，明确分管领导责任",
    "开学前安全大检查部署会",
    "防溺水专题研究，落实家校联系制度",
)
TOPICS = ("inspection", "hazard", "meeting", "activity", "report", None)


class Generator:
    """Seeded notes about one district: its schools, sections and people."""

    def __init__(self, count: int, seed: int = 0, schools: int = 300) -> None:
        org = make_organisation(schools, seed)
        self.schools = [(s.id, s.name) for s in org.schools]
        self.units = [(u.id, u.name) for u in org.units]
        self.people = [p.id for p in org.people]
        self.rng = random.Random(seed)
        self.count = count
        self.done = 0
        self.tz = pendulum.timezone(ZONE)
        self.start = dt.datetime(YEAR, 1, 1, tzinfo=self.tz)
        self.span = dt.datetime(YEAR + 1, 1, 1, tzinfo=self.tz) - self.start

    def _at(self, i: int) -> pendulum.DateTime:
        # spread evenly over the year, each recorded up to two hours after it happened;
        # half stamped by the clock (pendulum.now(): microseconds), half typed in (seconds)
        when = self.start + self.span * (i / self.count)
        when -= dt.timedelta(seconds=self.rng.randrange(7_200))
        when = max(when, self.start)
        us = self.rng.randrange(1_000_000) if self.rng.random() < 0.5 else 0
        return pendulum.DateTime(
            when.year, when.month, when.day, when.hour, when.minute, when.second, us, tzinfo=self.tz
        )

    def record(self) -> Record:
        rng = self.rng
        topic = rng.choice(TOPICS)
        school_id, school_name = rng.choice(self.schools)
        unit_id, unit_name = rng.choice(self.units)
        if topic == "meeting":
            text = f"{unit_name}：{rng.choice(MEETINGS)}"
            subjects = [f"unit:{unit_id}"]
        else:
            text = (
                f"{unit_name}到{school_name}检查：{rng.choice(PLACES)}"
                f"{rng.choice(FINDINGS)}，{rng.choice(ACTIONS)}。"
            )
            subjects = [f"school:{school_id}", f"unit:{unit_id}"]
            if rng.random() < 0.3:
                subjects.pop()  # some concern a school only
        record = Record.of(
            Note(text, topic=topic),
            actor=rng.choice(self.people),
            at=self._at(self.done),
            subjects=subjects,
        )
        self.done += 1
        return record

    def batch(self, n: int) -> list[Record]:
        return [self.record() for _ in range(n)]


# -- plain sqlite3, the practical limit ----------------------------------------------------


def plain_db(path: Path, like: Path) -> sqlite3.Connection:
    """A fresh file with the tables and indexes of the store *like*, and its pragmas."""
    with contextlib.closing(sqlite3.connect(like)) as src:
        schema = [
            sql
            for (sql,) in src.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name IN ('records', 'subjects') "
                "AND sql IS NOT NULL AND type IN ('table', 'index') ORDER BY rowid"
            )
        ]
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(pragma)
    for sql in schema:
        db.execute(sql)
    return db


Rows = list[tuple[int, str, str, int, str, bytes, str]]


def stored_rows(
    db: sqlite3.Connection, after: int, limit: int
) -> tuple[Rows, list[tuple[str, int]]]:
    """The rows of the records table after *after*, and their rows of the subjects table."""
    rows: Rows = db.execute(
        "SELECT seq, kind, actor, ts, subjects, body, hash FROM records WHERE seq > ? "
        "ORDER BY seq LIMIT ?",
        (after, limit),
    ).fetchall()
    subjects = [(s, r[0]) for r in rows for s in (r[4].split("\x1f") if r[4] else ())]
    return rows, subjects


def plain_insert(db: sqlite3.Connection, rows: Rows, subjects: Sequence[tuple[str, int]]) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO records (seq, kind, actor, ts, subjects, body, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.executemany("INSERT INTO subjects (subject, seq) VALUES (?, ?)", subjects)
    db.execute("COMMIT")


# -- the three measures --------------------------------------------------------------------


def bulk(folder: Path, n: int, batch: int) -> tuple[float, float, float]:
    """(dualduty records/s, plain rows/s, seconds spent building records)."""
    gen = Generator(n)
    store = open_store(f"sqlite:///{folder / 'bulk-dualduty.db'}")
    reader = sqlite3.connect(folder / "bulk-dualduty.db")
    plain = plain_db(folder / "bulk-plain.db", folder / "bulk-dualduty.db")
    t_dd = t_plain = t_gen = 0.0
    done = 0
    report_at = time.perf_counter() + 10
    try:
        while done < n:
            size = min(batch, n - done)
            start = time.perf_counter()
            records = gen.batch(size)
            t_gen += time.perf_counter() - start

            start = time.perf_counter()
            store.extend(records)
            t_dd += time.perf_counter() - start

            rows, subjects = stored_rows(reader, done, size)
            assert len(rows) == size
            start = time.perf_counter()
            plain_insert(plain, rows, subjects)
            t_plain += time.perf_counter() - start
            done += size
            if time.perf_counter() > report_at:
                print(f"  … {done:,} of {n:,} appended", file=sys.stderr)
                report_at += 10
        assert len(store) == n
    finally:
        store.close()
        reader.close()
        plain.close()
    return n / t_dd, n / t_plain, t_gen


def single(folder: Path, seconds: float) -> tuple[float, float, int]:
    """(dualduty transactions/s, plain transactions/s, how many)."""
    gen = Generator(1_000_000, seed=1)
    records = gen.batch(int(seconds * 20_000))  # more than any disk here commits
    path = folder / "single-dualduty.db"
    store = open_store(f"sqlite:///{path}")
    try:
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        for record in records:
            store.append(record)
            count += 1
            if time.perf_counter() >= deadline:
                break
        t_dd = time.perf_counter() - start
    finally:
        store.close()
    with sqlite3.connect(path) as reader:
        rows, subjects = stored_rows(reader, 0, count)
    by_seq: dict[int, list[tuple[str, int]]] = {}
    for subject in subjects:
        by_seq.setdefault(subject[1], []).append(subject)
    plain = plain_db(folder / "single-plain.db", path)
    try:
        start = time.perf_counter()
        for row in rows:
            plain_insert(plain, [row], by_seq.get(row[0], []))
        t_plain = time.perf_counter() - start
    finally:
        plain.close()
    return count / t_dd, count / t_plain, count


def reading(folder: Path, n: int, repeat: int) -> list[tuple[str, int, float, float, bool]]:
    """(what, entries, dualduty seconds, plain sqlite3 seconds, has a goal) for each read."""
    path = folder / "district.db"
    gen = Generator(n, seed=2)
    store = open_store(f"sqlite:///{path}")
    for _ in range(0, n, 10_000):
        store.extend(gen.batch(min(10_000, n - gen.done)))
    store.close()

    school = f"school:{gen.schools[6][0]}"
    unit = "unit:regulation-safety"
    since, until = pendulum.date(YEAR, 4, 1), pendulum.date(YEAR, 7, 1)
    tz = pendulum.timezone(ZONE)
    since_ts = int(dt.datetime(YEAR, 4, 1, tzinfo=tz).timestamp() * 1_000_000)
    until_ts = int(dt.datetime(YEAR, 7, 1, tzinfo=tz).timestamp() * 1_000_000)
    cols = "r.seq, r.kind, r.actor, r.ts, r.subjects, r.body, r.hash"
    by_subject = (
        f"SELECT {cols} FROM subjects s JOIN records r ON r.seq = s.seq "
        "WHERE s.subject = ? ORDER BY s.seq"
    )
    reads: list[tuple[str, Callable[[Store], Iterator[object]], str, tuple[object, ...]]] = [
        (
            "the year",
            lambda s: s.read(),
            f"SELECT {cols} FROM records r ORDER BY r.seq",
            (),
        ),
        (
            school,
            lambda s: s.read(subject=school),
            by_subject,
            (school,),
        ),
        (
            unit,
            lambda s: s.read(subject=unit),
            by_subject,
            (unit,),
        ),
        (
            "kind note, 2nd quarter",
            lambda s: s.read(kind="note", since=since, until=until),
            f"SELECT {cols} FROM records r WHERE r.kind = ? AND r.ts >= ? AND r.ts < ? "
            "ORDER BY r.seq",
            ("note", since_ts, until_ts),
        ),
    ]
    out = []
    # The first read of a store just opened: the codec has yet to meet this district's
    # actors and subjects (what a one-off report does). Then each read, repeated.
    firsts = []
    for _ in range(repeat):
        with open_store(f"sqlite:///{path}", readonly=True) as fresh:
            start = time.perf_counter()
            count = len(list(fresh.read()))
            firsts.append(time.perf_counter() - start)
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for i, (what, read, sql, params) in enumerate(reads):
                entries = list(read(store))
                rows = raw.execute(sql, params).fetchall()
                assert len(rows) == len(entries) > 0, (what, len(rows), len(entries))
                t_dd = median_seconds(lambda read=read: list(read(store)), repeat)  # type: ignore[misc]
                t_raw = median_seconds(
                    lambda sql=sql, params=params: raw.execute(sql, params).fetchall(),  # type: ignore[misc]
                    repeat,
                )
                if i == 0:
                    assert count == len(entries)
                    out.append(
                        (
                            "the year, first after open",
                            count,
                            statistics.median(firsts),
                            t_raw,
                            True,
                        )
                    )
                    out.append(("the year, again", len(entries), t_dd, t_raw, True))
                else:
                    out.append((what, len(entries), t_dd, t_raw, False))
        finally:
            raw.close()
    return out


def verifying(folder: Path, n: int) -> tuple[float, float]:
    """(dualduty seconds, plain sqlite3 seconds) to check the store of (a)."""
    path = folder / "bulk-dualduty.db"
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        start = time.perf_counter()
        check = store.verify()
        t_dd = time.perf_counter() - start
    assert (check.ok, check.checked) == (True, n), check.reason
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        start = time.perf_counter()
        sha256 = hashlib.sha256
        bad = sum(
            sha256(body).hexdigest() != digest
            for body, digest in raw.execute("SELECT body, hash FROM records ORDER BY seq")
        )
        t_raw = time.perf_counter() - start
    finally:
        raw.close()
    assert bad == 0
    return t_dd, t_raw


# -- printing --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000, help="bulk append (a)")
    parser.add_argument("--batch", type=int, default=10_000, help="records per transaction")
    parser.add_argument("--seconds", type=float, default=3.0, help="single appends (b)")
    parser.add_argument("--district", type=int, default=20_000, help="a district's year (c)")
    parser.add_argument("--repeat", type=int, default=5, help="reads, median of")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the files go (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    args = parser.parse_args()

    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.dir))
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    began = time.perf_counter()
    try:
        print(f"(a) appending {args.records:,} records in batches of {args.batch:,} …")
        dd_rate, plain_rate, t_gen = bulk(folder, args.records, args.batch)
        print(f"(b) single-record transactions for {sig(args.seconds)} s …")
        dd_tps, plain_tps, count = single(folder, args.seconds)
        print(f"(c) reading a year of {args.district:,} records …")
        reads = reading(folder, args.district, args.repeat)
        print(f"(d) verifying the {args.records:,} records of (a) …")
        t_verify, t_verify_raw = verifying(folder, args.records)
    finally:
        if args.keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    ratio = dd_rate / plain_rate
    table = [
        ("measure", "dualduty", "plain sqlite3", "ratio", "goal"),
        (
            f"(a) append {args.records:,}, {args.batch:,} per tx (rec/s)",
            sig(dd_rate),
            sig(plain_rate),
            f"{ratio:.0%}",
            f">= {GOAL_BULK_RATIO:.0%} of plain: {verdict(ratio >= GOAL_BULK_RATIO)}",
        ),
        (
            f"(b) one record per tx, {count:,} tx (tx/s)",
            sig(dd_tps),
            sig(plain_tps),
            f"{dd_tps / plain_tps:.0%}",
            f">= {GOAL_SINGLE_TPS:,.0f}/s: {verdict(dd_tps >= GOAL_SINGLE_TPS)}",
        ),
    ]
    for what, entries, t_dd, t_raw, goal in reads:
        table.append(
            (
                f"(c) read {what}: {entries:,} (s)",
                sig(t_dd),
                sig(t_raw),
                f"{t_raw / t_dd:.0%}",
                f"< {GOAL_READ_SECONDS} s: {verdict(t_dd < GOAL_READ_SECONDS)}"
                if goal
                else f"({sig(entries / t_dd)} entries/s)",
            )
        )
    table.append(
        (
            f"(d) verify {args.records:,}, read-only (s)",
            sig(t_verify),
            sig(t_verify_raw),
            f"{t_verify_raw / t_verify:.0%}",
            f"({sig(args.records / t_verify)} entries/s)",
        )
    )
    widths = [max(len(row[col]) for row in table) for col in range(4)]
    version = sys.version.split()[0]
    print(f"\nSQLite {sqlite3.sqlite_version}, Python {version}, files in {folder.parent}")
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:4], widths[1:], strict=True)
        ]
        print("  ".join([*cells, row[4]]))
        if n == 0:
            print("-" * (sum(widths) + 2 * 4 + 24))
    print(
        "ratio: dualduty's rate as a share of plain sqlite3's on the same rows. "
        f"Building the {args.records:,} records (not timed): {sig(t_gen)} s; "
        f"whole run {sig(time.perf_counter() - began)} s"
    )


if __name__ == "__main__":
    main()
