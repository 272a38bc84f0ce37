"""A PostgreSQL store for dualduty: ``postgresql://user@host:port/database``.

Registers the ``postgresql://`` and ``postgres://`` URL schemes through the
:func:`~dualduty.hookspecs.dualduty_open_store` hook. The backend itself
(:class:`dualduty_postgres.backend.PostgresBackend`) is imported only when such a URL is
opened, so that ``import dualduty`` with the plugin installed stays light.

Give the password through ``PGPASSWORD`` or ``~/.pgpass`` (libpq reads both), never in
the URL of a file: the backend keeps it out of every message and ``repr``, but a URL
written down is a password written down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dualduty.plugins import hookimpl

if TYPE_CHECKING:
    from dualduty.hookspecs import StoreRequest
    from dualduty.storage import StoreBackend

__all__ = ["SCHEMES", "dualduty_open_store"]

#: The URL schemes this plugin opens.
SCHEMES = ("postgresql://", "postgres://")


@hookimpl
def dualduty_open_store(request: StoreRequest) -> StoreBackend | None:
    """Open ``postgresql://`` and ``postgres://`` URLs; leave every other URL alone."""
    if not request.url.startswith(SCHEMES):
        return None
    from .backend import PostgresBackend

    return PostgresBackend(request.url, readonly=request.readonly)
