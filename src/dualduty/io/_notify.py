"""The ``[notify]`` table of a district file, to and from :class:`~dualduty.model.NotifySettings`.

In a file, channels, contacts and templates are tables keyed by name (``[notify.channels.
office-mail]``, ``[notify.contacts.p007]``, ``[notify.templates.incident]``) and routes a
list (``[[notify.routes]]``); the model holds them as tuples. Every problem is reported
with its path (``notify.routes[2].channels[0]``, ``notify.channels.office-mail.port``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import attrs
import cattrs

from dualduty.errors import Problem
from dualduty.model.notify import ChannelTable, Contact, NotifySettings, Route, TemplateText

from ._converters import problems_from

__all__ = ["NotifyLoad", "structure_notify", "unstructure_notify"]


class NotifyLoad(NamedTuple):
    """What :func:`structure_notify` made of a ``[notify]`` table."""

    settings: NotifySettings | None
    """The settings of what loaded (``None`` if the table is no table)."""
    problems: list[Problem]
    """Every problem found, with its path."""
    broken: list[str]
    """The names of the channels and templates that did not load (references to them
    are not reported again)."""
    routes: list[int]
    """The file's index of each route that loaded, in order."""

    def renumbered(self, problems: list[Problem], prefix: str = "notify") -> list[Problem]:
        """*problems* of the settings, with the file's route indices: after a broken
        ``routes[1]``, the model's ``routes[1]`` is the file's ``routes[2]``."""
        kept = self.routes
        pattern = re.compile(rf"{re.escape(prefix)}\.routes\[(\d+)\]")

        def sub(match: re.Match[str]) -> str:
            return f"{prefix}.routes[{kept[int(match[1])]}]"

        return [Problem(pattern.sub(sub, p.path), p.message) for p in problems]


_KEYS = ("routes", "channels", "contacts", "templates", "fallback")


def _table(value: Any, path: str, problems: list[Problem]) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    problems.append(
        Problem(path, f"expected a table of keys, got {type(value).__name__} {value!r}")
    )
    return None


def structure_notify(raw: Any, conv: cattrs.Converter, prefix: str = "notify") -> NotifyLoad:
    """The settings of what in a ``[notify]`` table loaded, and every problem found."""
    problems: list[Problem] = []
    broken: list[str] = []
    kept: list[int] = []
    data = _table(raw, prefix, problems)
    if data is None:
        return NotifyLoad(None, problems, broken, kept)
    for key in data:
        if key not in _KEYS:
            problems.append(Problem(f"{prefix}.{key}", f"unknown key {key!r}"))
    values: dict[str, Any] = {}

    if "fallback" in data:
        fallback = data["fallback"]
        if isinstance(fallback, str):
            values["fallback"] = fallback
        else:
            problems.append(
                Problem(f"{prefix}.fallback", f"expected a channel's name, got {fallback!r}")
            )

    raw_routes = data.get("routes", [])
    if not isinstance(raw_routes, list):
        problems.append(
            Problem(f"{prefix}.routes", f"expected a list of tables ([[{prefix}.routes]])")
        )
        raw_routes = []
    routes = []
    for i, item in enumerate(raw_routes):
        try:
            routes.append(conv.structure(item, Route))
            kept.append(i)
        except Exception as exc:
            problems.extend(problems_from(exc, f"{prefix}.routes[{i}]"))
    values["routes"] = routes

    channels = []
    tables = _table(data.get("channels", {}), f"{prefix}.channels", problems) or {}
    for name, raw_table in tables.items():
        path = f"{prefix}.channels.{name}"
        table = _table(raw_table, path, problems)
        if table is None:
            broken.append(name)
            continue
        kind = table.get("type")
        if not isinstance(kind, str) or not kind.strip():
            what = (
                "required field missing"
                if kind is None
                else f"expected a type's name, got {kind!r}"
            )
            problems.append(Problem(f"{path}.type", what))
            broken.append(name)
            continue
        settings = {k: v for k, v in table.items() if k != "type"}
        try:
            channels.append(ChannelTable(name, kind, settings))
        except (TypeError, ValueError) as exc:
            broken.append(name)
            message = str(exc)
            if message.startswith("settings."):
                where, _, message = message.partition(": ")
                problems.append(Problem(f"{path}.{where.removeprefix('settings.')}", message))
            else:
                problems.append(Problem(path, message))
    values["channels"] = channels

    contacts = []
    people = _table(data.get("contacts", {}), f"{prefix}.contacts", problems) or {}
    for person, raw_addresses in people.items():
        path = f"{prefix}.contacts.{person}"
        addresses = _table(raw_addresses, path, problems)
        if addresses is None:
            continue
        for channel, address in addresses.items():
            try:
                contacts.append(Contact(person, channel, address))
            except (TypeError, ValueError) as exc:
                field = str(exc).partition(":")[0]
                where = path if field == "person" else f"{path}.{channel}"
                problems.append(Problem(where, str(exc).partition(": ")[2] or str(exc)))
    values["contacts"] = contacts

    templates = []
    texts = _table(data.get("templates", {}), f"{prefix}.templates", problems) or {}
    for template_id, raw_text in texts.items():
        path = f"{prefix}.templates.{template_id}"
        text = _table(raw_text, path, problems)
        if text is None:
            broken.append(template_id)
            continue
        if "id" in text:
            problems.append(Problem(f"{path}.id", "unknown key 'id' (the table's name is its id)"))
            broken.append(template_id)
            continue
        try:
            templates.append(conv.structure({**text, "id": template_id}, TemplateText))
        except Exception as exc:
            broken.append(template_id)
            found = problems_from(exc, path)
            problems.extend(
                Problem(path, p.message) if p.path == f"{path}.id" else p for p in found
            )
    values["templates"] = templates

    try:
        loaded = NotifySettings(**values)
    except (TypeError, ValueError) as exc:  # the fallback's name
        problems.append(_field_problem(exc, prefix))
        values.pop("fallback", None)
        loaded = NotifySettings(**values)
    return NotifyLoad(loaded, problems, broken, kept)


def _field_problem(exc: Exception, prefix: str) -> Problem:
    """A model validator's ``field: message`` under *prefix*."""
    field, sep, message = str(exc).partition(": ")
    return Problem(f"{prefix}.{field}", message) if sep else Problem(prefix, str(exc))


def unstructure_notify(settings: NotifySettings, conv: cattrs.Converter) -> dict[str, Any]:
    """The ``[notify]`` table of *settings* (parts left at their defaults are left out)."""
    out: dict[str, Any] = {}
    if settings.fallback != "console":
        out["fallback"] = settings.fallback
    if settings.channels:
        out["channels"] = {t.name: conv.unstructure(t.table()) for t in settings.channels}
    if settings.routes:
        out["routes"] = [conv.unstructure(r) for r in settings.routes]
    if settings.contacts:
        contacts: dict[str, dict[str, str]] = {}
        for c in settings.contacts:
            contacts.setdefault(c.person, {})[c.channel] = c.address
        out["contacts"] = contacts
    if settings.templates:
        out["templates"] = {
            t.id: {k: v for k, v in attrs.asdict(t).items() if k != "id" and v is not None}
            for t in settings.templates
        }
    return out
