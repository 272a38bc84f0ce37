"""The storage conformance kit, against a real PostgreSQL server."""

from __future__ import annotations

import psycopg
import pytest

from dualduty.storage import Store, open_store
from dualduty.testing import StoreConformance
from dualduty.testing._worker import register_plugins

from .conftest import Server


class TestPostgresStore(StoreConformance):
    """``postgresql://``: a new database per test."""

    plugin_modules = ("dualduty_postgres",)
    server: Server

    @pytest.fixture
    def store_url(self, server: Server, pg_url: str) -> str:
        self.server = server
        return pg_url

    def open(self, url: str) -> Store:
        register_plugins(self.plugin_modules)
        return open_store(url)

    def _admin(self, url: str) -> psycopg.Connection[tuple[object, ...]]:
        return self.server.admin(url.rsplit("/", 1)[1])

    def tamper(self, url: str, seq: int) -> None:
        with self._admin(url) as conn:
            conn.execute("ALTER TABLE records DISABLE TRIGGER records_append_only")
            found = conn.execute("SELECT body FROM records WHERE seq = %s", (seq,)).fetchone()
            assert found is not None
            body = bytes(found[0])  # type: ignore[call-overload]
            altered = body.replace(b'"actor":"', b'"actor":"x', 1)
            cur = conn.execute("UPDATE records SET body = %s WHERE seq = %s", (altered, seq))
            assert cur.rowcount == 1

    def tamper_index(self, url: str, seq: int) -> None:
        """Take *seq* out of the run of its first subject (in the index's order)."""
        with self._admin(url) as conn:
            conn.execute("ALTER TABLE subject_runs DISABLE TRIGGER subject_runs_append_only")
            cur = conn.execute(
                "UPDATE subject_runs SET seqs = array_remove(seqs, %(seq)s) "
                "WHERE %(seq)s = ANY(seqs) AND subject = "
                "(SELECT min(subject) FROM subject_runs WHERE %(seq)s = ANY(seqs))",
                {"seq": seq},
            )
            assert cur.rowcount == 1
