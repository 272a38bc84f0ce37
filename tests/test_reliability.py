"""Nothing lost, nothing silently altered: the store under crashes, contention and tampering.

The figures each test measures are printed (run with ``-s`` to see them):

- a writer killed with SIGKILL in the middle of 10,000 appends leaves a store that
  verifies and holds whole transactions only;
- two processes appending 5,000 records each to one SQLite file lose nothing;
- an entry edited in the file is named by ``Store.verify`` and ``dualduty verify``, and
  so is a row edited in its subject index;
- a bad URL, a missing directory, a read-only file or directory and a newer schema are
  each a clear dualduty error, and nothing is written;
- ``dualduty verify`` leaves no file behind, also on a store it may not write to, and
  notices when a writer changes such a store while it reads.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dualduty.errors import DualdutyError
from dualduty.records.base import person
from dualduty.storage import StoreError, open_store
from dualduty.storage.sqlite import SCHEMA_VERSION
from dualduty.testing._worker import note_text, notes

WORKER = [sys.executable, "-m", "dualduty.testing._worker"]
TOTAL = 10_000
BATCH = 100


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under *directory* with its content."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# -- (a) kill -9 in the middle of a batch ------------------------------------------------------


def _kill_during(url: str, transaction: int, delay: float, batch: int) -> tuple[int, bool]:
    """Start a writer of TOTAL notes, SIGKILL it *delay* s after transaction *k* is sealed.

    Returns the writer's exit status and whether it had reported that transaction
    committed before it died.
    """
    proc = subprocess.Popen(
        [*WORKER, url, "--total", str(TOTAL), "--batch", str(batch)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line == f"begin {transaction}\n":
                break
        else:
            pytest.fail(f"the writer ended before transaction {transaction}: {proc.wait()}")
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        status = proc.wait(timeout=30)
        rest = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return status, f"commit {transaction}\n" in rest


def _check_whole_transactions(url: str, batch: int, transaction: int) -> int:
    with open_store(url) as store:
        count = len(store)
        check = store.verify()
        assert check.ok, check.reason
        assert check.checked == count
        # a prefix of whole transactions: the killed one is all there or not at all
        assert count % batch == 0, f"{count} entries: a transaction was half written"
        assert count in (transaction * batch, (transaction + 1) * batch), count
        entries = list(store.read())
        assert [e.seq for e in entries] == list(range(1, count + 1))
        assert [e.record for e in entries] == list(notes("writer", 0, count))
        # and the store takes the next transaction where the chain left off
        (more,) = store.append(next(notes("after", 0, 1)))
        assert (more.seq, more.prev) == (count + 1, check.head)
        assert store.verify().ok
    return count


def test_kill_9_leaves_whole_transactions(tmp_path: Path) -> None:
    rng = random.Random(20240901)
    # kill within ~1.5 ms of a transaction being sealed: while its rows are inserted and
    # committed (some land just after the commit; the check holds either way)
    points = [(rng.randrange(1, TOTAL // BATCH), rng.uniform(0, 0.0015)) for _ in range(8)]
    started = time.perf_counter()
    report = []
    for i, (transaction, delay) in enumerate(points):
        url = url_of(tmp_path / f"killed-{i}.db")
        status, reported = _kill_during(url, transaction, delay, BATCH)
        assert status == -signal.SIGKILL
        count = _check_whole_transactions(url, BATCH, transaction)
        assert not reported or count == (transaction + 1) * BATCH  # a reported commit is there
        landed = "after its commit" if count > transaction * BATCH else "before its commit"
        report.append(
            f"  kill {i + 1}: in transaction {transaction} (+{delay * 1000:.1f} ms), "
            f"{landed}; {count} entries found, verified"
            + (" (commit reported)" if reported else "")
        )
    print(
        f"\nkill -9 of a writer of {TOTAL} notes in transactions of {BATCH}: "
        f"{len(points)} kills in {time.perf_counter() - started:.1f} s"
    )
    print("\n".join(report))


def test_kill_9_in_one_large_transaction(tmp_path: Path) -> None:
    """All 10,000 appends in one transaction, killed while it is written: all or nothing."""
    url = url_of(tmp_path / "one.db")
    with open_store(url) as store:  # the store exists and holds something before
        store.append(*notes("before", 0, 3))
    status, reported = _kill_during(url, 0, 0.002, TOTAL)
    assert status == -signal.SIGKILL
    with open_store(url) as store:
        check = store.verify()
        found = len(store)
        assert check.ok, check.reason
        assert check.checked == found
        assert found in (3, 3 + TOTAL), found
        actors = [e.record.actor for e in store.read()]
        assert actors == ["before"] * 3 + ["writer"] * (found - 3)
    assert not reported or found == 3 + TOTAL  # a commit it reported is there
    print(
        f"\nkill -9 2 ms into writing one transaction of {TOTAL}: {found} entries found "
        f"({'none' if found == 3 else 'all'} of the transaction)"
    )


# -- (b) two writers at once ---------------------------------------------------------------


def test_two_processes_append_5000_each(tmp_path: Path) -> None:
    url = url_of(tmp_path / "shared.db")
    with open_store(url):
        pass  # create the schema once, so that both writers start on equal terms
    each = 5_000
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*WORKER, url, "--actor", actor, "--total", str(each), "--batch", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for actor in ("writer.a", "writer.b")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    elapsed = time.perf_counter() - started
    assert [p.returncode for p in procs] == [0, 0], errors

    with open_store(url) as store:
        assert len(store) == 2 * each
        check = store.verify()
        assert (check.ok, check.checked) == (True, 2 * each), check.reason
        actors = [e.record.actor for e in store.read()]
        for actor in ("writer.a", "writer.b"):
            texts = [e.record.data.text for e in store.read(subject=person(actor))]
            assert texts == [note_text(actor, i) for i in range(each)], actor
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    print(
        f"\ntwo processes x {each} single-record transactions: {len(actors)} entries, chain "
        f"valid, writers alternated {switches} times, {elapsed:.1f} s "
        f"({2 * each / elapsed:.0f} durable transactions/s)"
    )


# -- (c) an entry edited in the file -------------------------------------------------------


def test_an_edited_entry_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    url = url_of(path)
    with open_store(url) as store:
        store.extend(notes("zhao", 0, 100))
    intact = subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert intact.returncode == 0, intact.stderr
    assert "is intact: 100 entries checked" in intact.stdout

    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TRIGGER records_no_update")
        (body,) = db.execute("SELECT body FROM records WHERE seq = 42").fetchone()
        db.execute(
            "UPDATE records SET body = ? WHERE seq = 42",
            (body.replace(b"zhao#41", b"zhao#99"),),
        )
    db.close()

    with open_store(url) as store:
        check = store.verify()
    assert (check.ok, check.first_bad, check.checked, check.total) == (False, 42, 41, 100)
    assert check.reason == "entry 42: its content does not match its hash (altered after writing)"

    text = subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert text.returncode == 1, text.stderr
    assert "NOT INTACT: entry 42 of 100 does not match" in text.stdout
    assert "entry 42: its content does not match its hash" in text.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert (report["intact"], report["first_bad"], report["checked"]) == (False, 42, 41)


def test_an_edited_index_row_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    url = url_of(path)
    with open_store(url) as store:
        store.extend(notes("zhao", 0, 100))
    db = sqlite3.connect(path)
    with db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM subjects WHERE seq = 42")
        db.execute("DROP TRIGGER subjects_no_update")
        db.execute("UPDATE subjects SET subject = 'person:wang' WHERE seq = 42")
    db.close()

    with open_store(url) as store:
        check = store.verify()
    assert (check.ok, check.first_bad, check.checked, check.total) == (False, 42, 41, 100)
    reason = (
        "entry 42: its subject index differs from its content "
        "(index altered: missing person:zhao; extra person:wang)"
    )
    assert check.reason == reason

    text = subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert text.returncode == 1, text.stderr
    assert text.stdout.splitlines()[:2] == [
        f"{url} is NOT INTACT: entry 42 of 100 does not match",
        f"  why   {reason}",
    ]
    as_json = subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert (report["intact"], report["first_bad"], report["checked"]) == (False, 42, 41)


# -- (d) errors, and nothing written ---------------------------------------------------------

# Linux capabilities that let root write files whatever their mode.
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2

_OPEN = """
import os, sys
from dualduty.storage import StoreError, open_store
url, target = sys.argv[1], sys.argv[2]
if os.access(target, os.W_OK):
    print("PREMISE: still writable"); sys.exit(4)
try:
    open_store(url).close()
except StoreError as exc:
    print(exc); sys.exit(3)
print("OPENED")
"""


def _without_root_powers() -> None:
    """In the child: give up root's power to write read-only files (a no-op for others)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _open_unprivileged(url: str, target: Path) -> str:
    """Open *url* in a process that cannot write to *target*; return the StoreError."""
    done = subprocess.run(
        [sys.executable, "-c", _OPEN, url, str(target)],
        capture_output=True,
        text=True,
        preexec_fn=_without_root_powers,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr)
    return done.stdout.strip()


def _existing(path: Path) -> None:
    with open_store(url_of(path)) as store:
        store.append(*notes("zhao", 0, 5))


def _case_bad_scheme(tmp: Path) -> Callable[[], str]:
    def attempt() -> str:
        with pytest.raises(StoreError) as info:
            open_store("foo://x")
        return str(info.value)

    return attempt


def _case_password(tmp: Path) -> Callable[[], str]:
    def attempt() -> str:
        with pytest.raises(StoreError) as info:
            open_store("postgresql://safety:secret@db.example.cn/records")
        assert "secret" not in str(info.value)
        return str(info.value)

    return attempt


def _case_missing_directory(tmp: Path) -> Callable[[], str]:
    def attempt() -> str:
        with pytest.raises(StoreError) as info:
            open_store(url_of(tmp / "no" / "such" / "records.db"))
        return str(info.value)

    return attempt


def _case_readonly_file(tmp: Path) -> Callable[[], str]:
    path = tmp / "records.db"
    _existing(path)
    path.chmod(0o444)
    return lambda: _open_unprivileged(url_of(path), path)


def _case_readonly_directory(tmp: Path) -> Callable[[], str]:
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o555)
    return lambda: _open_unprivileged(url_of(tmp / "ro" / "records.db"), tmp / "ro")


def _case_store_in_readonly_directory(tmp: Path) -> Callable[[], str]:
    (tmp / "ro").mkdir()
    _existing(tmp / "ro" / "records.db")
    (tmp / "ro").chmod(0o555)
    return lambda: _open_unprivileged(url_of(tmp / "ro" / "records.db"), tmp / "ro")


def _case_newer_schema(tmp: Path) -> Callable[[], str]:
    path = tmp / "records.db"
    _existing(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    def attempt() -> str:
        with pytest.raises(StoreError) as info:
            open_store(url_of(path))
        return str(info.value)

    return attempt


ERRORS: dict[str, tuple[Callable[[Path], Callable[[], str]], str]] = {
    "bad URL scheme": (_case_bad_scheme, r"^no storage plugin opens 'foo' URLs \(foo://x\)"),
    "URL with a password": (
        _case_password,
        r"^no storage plugin opens 'postgresql' URLs \(postgresql://safety:\*\*\*@db",
    ),
    "missing directory": (
        _case_missing_directory,
        r"records\.db: the directory '.*/no/such' does not exist$",
    ),
    "read-only file": (_case_readonly_file, r"records\.db: the file is read-only$"),
    "read-only directory": (
        _case_readonly_directory,
        r"records\.db: cannot create a file in '.*/ro' \(read-only\)$",
    ),
    "store in a read-only directory": (
        _case_store_in_readonly_directory,
        r"records\.db: cannot read the file \(.*\); SQLite needs to create records\.db-wal "
        r"and records\.db-shm beside the file, so the directory '.*/ro' must be writable$",
    ),
    "newer schema": (
        _case_newer_schema,
        rf"records\.db: written by a newer dualduty \(schema version {SCHEMA_VERSION + 1}; ",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_clear_and_write_nothing(tmp_path: Path, case: str) -> None:
    prepare, message = ERRORS[case]
    attempt = prepare(tmp_path)
    before = snapshot(tmp_path)
    try:
        text = attempt()
    finally:
        for path in (tmp_path, *tmp_path.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert issubclass(StoreError, DualdutyError)
    assert re.search(message, text), text
    assert "Traceback" not in text
    assert snapshot(tmp_path) == before


# -- (e) read-only verification leaves the store as it was ---------------------------------


def state_of(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under *directory* with its content and its modification time."""
    return {
        str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _verify(url: str, *, privileged: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dualduty", "verify", "--db", url],
        capture_output=True,
        text=True,
        preexec_fn=None if privileged else _without_root_powers,
        timeout=60,
        check=False,
    )


def test_verify_leaves_no_files(tmp_path: Path) -> None:
    """SQLite reads a store in write-ahead-log mode through -wal and -shm files; with no
    writer around, verify must not leave them (nor change the file)."""
    url = url_of(tmp_path / "records.db")
    _existing(tmp_path / "records.db")
    before = state_of(tmp_path)
    assert list(before) == ["records.db"]
    time.sleep(0.01)  # a change now would show in the modification time
    done = _verify(url)
    assert done.returncode == 0, done.stderr
    assert f"{url} is intact: 5 entries checked" in done.stdout
    assert state_of(tmp_path) == before


def _read_only_directory(tmp: Path) -> Path:
    (tmp / "ro").mkdir()
    _existing(tmp / "ro" / "records.db")
    (tmp / "ro").chmod(0o555)
    return tmp / "ro" / "records.db"


def _read_only_file(tmp: Path) -> Path:
    _existing(tmp / "records.db")
    (tmp / "records.db").chmod(0o444)
    return tmp / "records.db"


@pytest.mark.parametrize("case", [_read_only_directory, _read_only_file])
def test_verify_a_store_one_may_not_write(tmp_path: Path, case: Callable[[Path], Path]) -> None:
    """An archived copy, another account's store: verified without creating a file."""
    url = url_of(case(tmp_path))
    before = state_of(tmp_path)
    time.sleep(0.01)
    try:
        done = _verify(url, privileged=False)
        after = state_of(tmp_path)
    finally:
        for path in (tmp_path, *tmp_path.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"{url} is intact: 5 entries checked" in done.stdout
    assert after == before


_READER = """
import sys
from dualduty.storage import StoreError, open_store
store = open_store(sys.argv[1], readonly=True)
print(store.backend.access, len(store), flush=True)
for _ in sys.stdin:
    try:
        check = store.verify()
        print("verified", check.ok, check.checked, flush=True)
    except StoreError as exc:
        print("error", exc, flush=True)
store.close()
"""


def test_a_writer_changing_a_store_read_without_locks_is_noticed(tmp_path: Path) -> None:
    """A store this process may not write is read without locks (``immutable``): a writer
    that starts meanwhile must not make it read a half-changed file."""
    path = _read_only_directory(tmp_path)
    url = url_of(path)
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_without_root_powers,  # noqa: PLW1509 (no threads started by this test)
    )
    assert reader.stdin is not None
    assert reader.stdout is not None

    def verify() -> str:
        assert reader.stdin is not None
        assert reader.stdout is not None
        reader.stdin.write("\n")
        reader.stdin.flush()
        return reader.stdout.readline().strip()

    try:
        assert reader.stdout.readline().strip() == "immutable 5"
        writer = open_store(url)  # (this process may write: root, or the owner)
        try:
            writer.append(*notes("wang", 0, 3))
            # committed to -wal only, the file itself as it was: still a true reading
            assert verify() == "verified True 5"
        finally:
            writer.close()  # the last connection: copies -wal into the file
        assert verify() == (
            f"error store {url}: the file changed while it was read: a writer has opened it "
            "since. It is read without locks, as this process may not write the file or its "
            "directory; open it again to read it"
        )
        reader.stdin.close()
        assert reader.wait(timeout=30) == 0, reader.stderr.read() if reader.stderr else ""
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
        for stream in (reader.stdout, reader.stderr):
            if stream is not None:
                stream.close()
    try:
        done = _verify(url, privileged=False)
    finally:
        for p in (tmp_path, *tmp_path.rglob("*")):
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"{url} is intact: 8 entries checked" in done.stdout
