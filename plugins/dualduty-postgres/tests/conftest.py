"""A real PostgreSQL server for the plugin's tests, and a fresh database for each test.

CI starts a throwaway cluster with ``ci/cluster.sh start DIR PORT`` and sets:

``DUALDUTY_TEST_POSTGRES_URL``
    the URL of the test role's database, without a password
    (``postgresql://dualduty@127.0.0.1:PORT/dualduty``);
``DUALDUTY_TEST_POSTGRES_DIR``
    the cluster's directory (the restart test restarts the server through the script);
``PGPASSWORD``
    the test role's password (``dualduty-test``), which libpq reads.

When ``DUALDUTY_TEST_POSTGRES_URL`` is not set, the session starts a cluster itself
with the script (in a temporary directory, on a free loopback port) and stops it at
the end. Without a server to use or start, the tests fail saying why; none is skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import attrs
import dualduty_postgres
import psycopg
import pytest

from dualduty.plugins import plugin_manager

# each test registers what it needs; installed plugins are not loaded automatically
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")

PLUGIN_DIR = Path(__file__).resolve().parents[1]
CLUSTER_SH = PLUGIN_DIR / "ci" / "cluster.sh"
PASSWORD = "dualduty-test"  # the test role's, set by ci/cluster.sh


@attrs.frozen
class Server:
    """The PostgreSQL server the tests use."""

    url: str
    """The test role's database (no password in it)."""
    admin_url: str
    """The superuser ``postgres`` (trusted on loopback), database ``postgres``."""
    directory: Path | None
    """The cluster's directory, for ``ci/cluster.sh restart``."""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 5432

    def url_for(self, database: str, *, user: str = "dualduty", password: str | None = None) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        parts = urlsplit(self.admin_url)
        return psycopg.connect(urlunsplit(parts._replace(path=f"/{database}")), autocommit=True)

    def create_database(self) -> str:
        name = f"dd_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER dualduty')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self) -> None:
        if self.directory is None:
            pytest.fail(
                "DUALDUTY_TEST_POSTGRES_DIR is not set: the restart test needs the cluster's "
                "directory (ci/cluster.sh start DIR PORT) to restart the server"
            )
        subprocess.run([str(CLUSTER_SH), "restart", str(self.directory)], check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(netloc=f"postgres@{parts.hostname}:{parts.port or 5432}", path="/postgres")
    )


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The server: CI's (``DUALDUTY_TEST_POSTGRES_URL``), or one started for the session."""
    url = os.environ.get("DUALDUTY_TEST_POSTGRES_URL")
    if url:
        os.environ.setdefault("PGPASSWORD", PASSWORD)
        directory = os.environ.get("DUALDUTY_TEST_POSTGRES_DIR")
        yield Server(url, _admin_url(url), Path(directory) if directory else None)
        return
    cluster = Path(tempfile.gettempdir()) / f"dualduty-pg-{os.getpid()}"
    try:
        started = subprocess.run(
            [str(CLUSTER_SH), "start", str(cluster), str(_free_port())],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        err = getattr(exc, "stderr", "") or ""
        pytest.fail(
            "no PostgreSQL server for the tests: DUALDUTY_TEST_POSTGRES_URL is not set and "
            f"starting one with {CLUSTER_SH} failed ({exc}) {err.strip()}",
            pytrace=False,
        )
    os.environ["PGPASSWORD"] = PASSWORD
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield Server(url, _admin_url(url), cluster)
    finally:
        subprocess.run([str(CLUSTER_SH), "stop", str(cluster)], check=False)


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    """The plugin, registered with the process-wide plugin manager for each test."""
    pm = plugin_manager()
    added = not pm.is_registered(dualduty_postgres)
    if added:
        pm.register(dualduty_postgres, name="dualduty_postgres")
    try:
        yield
    finally:
        if added:
            pm.unregister(dualduty_postgres)


@pytest.fixture
def database(server: Server) -> Iterator[str]:
    """The name of a new, empty database owned by the test role, dropped after the test."""
    name = server.create_database()
    try:
        yield name
    finally:
        server.drop_database(name)


@pytest.fixture
def pg_url(server: Server, database: str) -> str:
    """The URL of a new, empty store (no password in it: libpq reads PGPASSWORD)."""
    return server.url_for(database)
