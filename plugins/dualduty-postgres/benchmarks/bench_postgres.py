"""Appending to a PostgreSQL store against a plain COPY of the same rows; durable commits.

Starts a throwaway cluster with ``ci/cluster.sh`` (or uses ``DUALDUTY_TEST_POSTGRES_URL``
with ``PGPASSWORD``), then in one database:

1. appends *N* records with ``Store.extend`` in transactions of ``--batch`` records (the
   backend writes them with binary ``COPY``: records and the subject index, with the
   chain sealed by the Store: canonical JSON and SHA-256 for each);
2. copies the same rows (read back from the store) into a bare table of the same
   columns, without indexes, with one binary ``COPY``: what the server can take at best;
3. appends single records, one durable transaction each (``synchronous_commit = on``),
   for ``--seconds``.

Prints the rates and the ratio of (1) to (2); the goal is at least 25%.

    python benchmarks/bench_postgres.py --records 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
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
    args = parser.parse_args()

    cluster = None
    url = os.environ.get("DUALDUTY_TEST_POSTGRES_URL")
    if not url:
        cluster = Path(tempfile.gettempdir()) / f"dualduty-bench-pg-{os.getpid()}"
        out = subprocess.run(
            [str(CLUSTER_SH), "start", str(cluster), str(_free_port())],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        url = out.strip().splitlines()[-1]
        os.environ["PGPASSWORD"] = "dualduty-test"
    try:
        bench(url, args.records, args.batch, args.seconds)
    finally:
        if cluster is not None:
            subprocess.run([str(CLUSTER_SH), "stop", str(cluster)], check=False)
    return 0


def bench(url: str, n: int, batch: int, seconds: float) -> None:
    """Run the benchmark in a new database of the server at *url*, dropped after."""
    base, _, _ = url.rpartition("/")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = f"{base.replace('//dualduty@', '//postgres@', 1)}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER dualduty')
    pm = plugin_manager()
    if not pm.is_registered(dualduty_postgres):  # installed: the entry point registered it
        pm.register(dualduty_postgres, name="dualduty_postgres")
    try:
        run(f"{base}/{name}", n, batch, seconds)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, n: int, batch: int, seconds: float) -> None:
    with open_store(url) as store:
        source = list(records(n))  # built beforehand, like the plain COPY's rows
        t0 = time.perf_counter()
        done = 0
        while done < n:
            done += store.extend(source[done : done + batch])
        store_s = time.perf_counter() - t0
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
        del rows

    with open_store(url) as store:
        single = records(10**9)
        count = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            store.append(next(single))
            count += 1
        single_s = time.perf_counter() - t0
        sync = psycopg.connect(url).execute("SHOW synchronous_commit").fetchone()
        assert store.verify().ok

    store_rate, plain_rate = n / store_s, n / plain_s
    print(f"records: {n:,} (Store.extend in transactions of {batch:,})")
    print(f"  Store.extend      {store_s:8.2f} s  {store_rate:12,.0f} records/s")
    print(f"  plain COPY        {plain_s:8.2f} s  {plain_rate:12,.0f} rows/s")
    print(f"  ratio             {store_rate / plain_rate:8.1%}  (goal >= 25%)")
    print(
        f"durable single-record transactions (synchronous_commit={sync[0] if sync else '?'}): "
        f"{count / single_s:,.0f}/s ({count:,} in {single_s:.1f} s)"
    )


if __name__ == "__main__":
    sys.exit(main())
