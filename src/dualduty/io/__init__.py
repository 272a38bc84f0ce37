"""Reading and writing district files (TOML, JSON, YAML)."""

from __future__ import annotations

from .files import FORMAT_VERSION, dump, dumps, format_for, from_data, load, loads, to_data

__all__ = ["FORMAT_VERSION", "dump", "dumps", "format_for", "from_data", "load", "loads", "to_data"]
