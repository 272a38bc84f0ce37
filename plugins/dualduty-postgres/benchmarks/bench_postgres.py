"""Appending to a PostgreSQL store against a plain COPY of the same rows; durable commits.

Starts throwaway clusters with ``ci/cluster.sh`` — one with the server's settings as
``initdb`` ships them, one with ``shared_buffers`` and ``max_wal_size`` raised as CI's
(``--settings defaults|tuned|both``; both by default, one after the other) — or uses
the server of ``DUALDUTY_TEST_POSTGRES_URL`` (with ``PGPASSWORD``) as it is. In a new
database of each:

1. appends *N* records with ``Store.extend`` in transactions of ``--batch`` records (the
   backend writes them with binary ``COPY``: the records, then the subject index's runs,
   with the chain sealed by the Store: canonical JSON and SHA-256 for each);
2. copies the same rows (read back from the store) into a bare table of the same
   columns, without indexes, with one binary ``COPY``: what the server can take at best;
3. appends single records, one durable transaction each (``synchronous_commit = on``),
   for ``--seconds``.

A checkpoint precedes (1) and (2), so that neither pays for the other's dirty buffers.
Prints the rates, the ratio of (1) to (2) (the goal is at least 25%), and the
write-ahead log each wrote.

    python benchmarks/bench_postgres.py --records 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import dualduty_postgres
import psycopg

from dualduty.plugins import plugin_manager
from dualduty.records.base import Note, Record, person, school, unit
from dualduty.storage import open_store

CLUSTER_SH = Path(__file__).resolve().parents[1] / "ci" / "cluster.sh"
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 1, 1, 8, tzinfo=ZONE)
GOAL = 0.25


def records(n: int) -> Iterator[Record]:
    for i in range(n):
        yield Record(
            "note",
            f"inspector.{i % 97}",
            START + dt.timedelta(seconds=i),
            Note(f"巡查记录 {i}：消防通道畅通", topic="safety"),
            (school(f"s{i % 2000:04d}"), unit("planning"), person(f"p{i % 500}")),
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="each in a new database")
    parser.add_argument(
        "--settings",
        choices=("defaults", "tuned", "both"),
        default="both",
        help="the clusters to start (ignored with DUALDUTY_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()

    url = os.environ.get("DUALDUTY_TEST_POSTGRES_URL")
    if url:
        bench(url, args.records, args.batch, args.seconds, args.rounds)
        return 0
    settings = ("defaults", "tuned") if args.settings == "both" else (args.settings,)
    for which in settings:
        cluster = Path(tempfile.gettempdir()) / f"dualduty-bench-pg-{os.getpid()}-{which}"
        env = dict(os.environ, DUALDUTY_PG_DEFAULTS="1" if which == "defaults" else "")
        out = subprocess.run(
            [str(CLUSTER_SH), "start", str(cluster), str(_free_port())],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        os.environ["PGPASSWORD"] = "dualduty-test"
        try:
            bench(out.strip().splitlines()[-1], args.records, args.batch, args.seconds, args.rounds)
        finally:
            subprocess.run([str(CLUSTER_SH), "stop", str(cluster)], check=False)
    return 0


def bench(url: str, n: int, batch: int, seconds: float, rounds: int) -> None:
    """Run the benchmark *rounds* times on the server at *url*, each in a new database
    (dropped after), and print the figures of each round and their median."""
    base, _, _ = url.rpartition("/")
    admin = f"{base.replace('//dualduty@', '//postgres@', 1)}/postgres"
    pm = plugin_manager()
    if not pm.is_registered(dualduty_postgres):  # installed: the entry point registered it
        pm.register(dualduty_postgres, name="dualduty_postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        shown = {
            setting: conn.execute(f"SHOW {setting}").fetchone()
            for setting in ("shared_buffers", "max_wal_size", "synchronous_commit", "fsync")
        }
        version = conn.execute("SHOW server_version").fetchone()
    print(
        f"PostgreSQL {version[0] if version else '?'}: "
        + ", ".join(f"{k}={v[0] if v else '?'}" for k, v in shown.items())
    )
    print(f"records: {n:,} (Store.extend in transactions of {batch:,}), {rounds} rounds")
    results = []
    for k in range(1, rounds + 1):
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER dualduty')
        try:
            got = run(f"{base}/{name}", admin, n, batch, seconds)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        results.append(got)
        store_s, plain_s, store_wal, plain_wal, tps = got
        print(
            f"  round {k}: Store.extend {store_s:6.2f} s ({n / store_s:9,.0f}/s, WAL "
            f"{store_wal:,.0f} MB)  plain COPY {plain_s:6.2f} s ({n / plain_s:9,.0f}/s, WAL "
            f"{plain_wal:,.0f} MB)  ratio {plain_s / store_s:6.1%}  single {tps:5,.0f} tx/s"
        )
    ratio = statistics.median(r[1] / r[0] for r in results)
    verdict = "met" if ratio >= GOAL else "NOT met"
    lo, hi = min(r[1] / r[0] for r in results), max(r[1] / r[0] for r in results)
    print(
        f"  median ratio {ratio:6.1%} (rounds {lo:.1%} to {hi:.1%}; goal >= {GOAL:.0%}: {verdict})"
    )
    print(
        "  durable single-record transactions (synchronous_commit=on): median "
        f"{statistics.median(r[4] for r in results):,.0f}/s"
    )


def _checkpoint(admin: str) -> str:
    """A checkpoint (a clean start for what is timed next); the WAL position after it."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        found = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert found is not None
    return str(found[0])


def _wal_since(admin: str, lsn: str) -> float:
    """Megabytes of write-ahead log written since *lsn*."""
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn,)
        ).fetchone()
    assert found is not None
    return float(found[0]) / 1e6


def run(
    url: str, admin: str, n: int, batch: int, seconds: float
) -> tuple[float, float, float, float, float]:
    """One round: seconds of the store's load and of the plain COPY, the megabytes of
    WAL each wrote, and durable single-record transactions per second."""
    with open_store(url) as store:
        source = list(records(n))  # built beforehand, like the plain COPY's rows
        lsn = _checkpoint(admin)
        t0 = time.perf_counter()
        done = 0
        while done < n:
            done += store.extend(source[done : done + batch])
        store_s = time.perf_counter() - t0
        store_wal = _wal_since(admin, lsn)
        assert len(store) == n
        del source

    with psycopg.connect(url, autocommit=True) as conn:
        rows = (
            conn.cursor(binary=True)
            .execute("SELECT seq, kind, actor, ts, subjects, body, hash FROM records ORDER BY seq")
            .fetchall()
        )
        conn.execute(
            "CREATE TABLE plain (seq bigint, kind text, actor text, ts bigint, "
            "subjects text[], body bytea, hash text)"
        )
        lsn = _checkpoint(admin)
        t0 = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(
                "COPY plain (seq, kind, actor, ts, subjects, body, hash) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "text", "text", "int8", "text[]", "bytea", "text"])
            for r in rows:
                copy.write_row(r)
        plain_s = time.perf_counter() - t0
        plain_wal = _wal_since(admin, lsn)
        del rows

    with open_store(url) as store:
        single = records(10**9)
        count = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            store.append(next(single))
            count += 1
        single_s = time.perf_counter() - t0
        assert store.verify().ok
    return store_s, plain_s, store_wal, plain_wal, count / single_s


if __name__ == "__main__":
    sys.exit(main())
