"""District files: an organisation, its schools and packages in TOML, JSON or YAML.

Loading is all-or-nothing: every item is structured on its own so that one bad item
does not hide the problems of the others, then every cross-reference is checked, and
a single :class:`~dualduty.InvalidOrganisation` lists every problem with its path.
Writing goes to a temporary file first and replaces the target only when complete.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import tomllib
import zoneinfo
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args, get_type_hints

import attrs
import tomli_w

from dualduty.errors import DualdutyError, InvalidOrganisation, Problem
from dualduty.model import Organisation, find_problems

from ._converters import Format, converter, problems_from
from ._notify import NotifyLoad, structure_notify
from ._text import read_utf8

__all__ = ["FORMAT_VERSION", "dump", "dumps", "from_data", "load", "loads", "to_data"]

#: The version of the file format this dualduty writes (the top-level ``format`` key).
FORMAT_VERSION = 1

_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_HINTS: dict[str, Any] = get_type_hints(Organisation)
#: The top-level keys holding lists of items (each item is structured on its own).
_LISTS: dict[str, Any] = {
    name: get_args(hint)[0]
    for name, hint in _HINTS.items()
    if getattr(hint, "__origin__", None) is tuple
}


def format_for(path: str | os.PathLike[str], fmt: Format | None = None) -> Format:
    """The format of *path*: *fmt* if given, else from its suffix."""
    if fmt is not None:
        return fmt
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise InvalidOrganisation(
            [
                Problem(
                    "",
                    f"cannot tell the format from the suffix {suffix!r}; "
                    "use .toml, .json, .yaml or .yml, or name the format",
                )
            ],
            str(path),
        ) from None


def _parse(text: str, fmt: Format) -> Any:
    if fmt == "toml":
        # rtoml (Rust) parses a large district file about five times faster than the
        # standard library's tomllib; tomllib stays the fallback where no wheel exists.
        try:
            import rtoml
        except ImportError:  # pragma: no cover - rtoml is a dependency with wheels
            return tomllib.loads(text)
        return rtoml.loads(text)
    if fmt == "json":
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise DualdutyError("reading YAML needs PyYAML: pip install 'dualduty[yaml]'") from None
    return yaml.safe_load(text)


def loads(text: str, fmt: Format = "toml", *, source: str = "<string>") -> Organisation:
    """Read an organisation from the text of a district file.

    :param fmt: ``"toml"``, ``"json"`` or ``"yaml"``.
    :param source: the name used in error messages.
    :raises dualduty.InvalidOrganisation: listing every problem with its path.
    """
    try:
        data = _parse(text, fmt)
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidOrganisation(
            [Problem("", f"not valid {fmt.upper()}: {exc}")], source
        ) from None
    except Exception as exc:  # YAML's errors share no base class with the others
        raise InvalidOrganisation(
            [Problem("", f"not valid {fmt.upper()}: {exc}")], source
        ) from None
    return from_data(data, fmt, source=source)


def load(path: str | os.PathLike[str], fmt: Format | None = None) -> Organisation:
    """Read and validate an organisation from a district file.

    The format is taken from the suffix (``.toml``, ``.json``, ``.yaml``/``.yml``)
    unless *fmt* names it.

    :raises dualduty.InvalidOrganisation: listing every problem with its path.
    """
    fmt = format_for(path, fmt)
    source = os.fspath(path)
    text = read_utf8(path)
    if isinstance(text, Problem):
        raise InvalidOrganisation([text], source)
    return loads(text, fmt, source=source)


def _ids(node: Any) -> Iterator[str]:
    """Every ``id`` in a raw subtree (a broken item's ids are not reported again as unknown)."""
    if isinstance(node, Mapping):
        if isinstance(node.get("id"), str):
            yield node["id"]
        for value in node.values():
            yield from _ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ids(value)


def from_data(data: Any, fmt: Format = "json", *, source: str = "<data>") -> Organisation:
    """Build and validate an organisation from parsed file data (dicts, lists, scalars).

    :raises dualduty.InvalidOrganisation: listing every problem with its path.
    """
    if not isinstance(data, Mapping):
        raise InvalidOrganisation(
            [Problem("", f"expected a table of keys at the top, got {type(data).__name__}")], source
        )
    conv = converter(fmt)
    problems: list[Problem] = []
    broken: list[str] = []
    data = dict(data)
    version = data.pop("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        problems.append(
            Problem(
                "format",
                f"file format {version!r} is not supported; this dualduty reads "
                f"format {FORMAT_VERSION} (a newer dualduty may read it)",
            )
        )
    values: dict[str, Any] = {}
    notify: NotifyLoad | None = None
    # key -> the file index of each item that loaded, when an item before it did not
    renumber: dict[str, list[int]] = {}
    for key, raw in data.items():
        if key not in _HINTS:
            problems.append(Problem(key, f"unknown key {key!r}"))
            continue
        if key in _LISTS:
            if not isinstance(raw, list):
                problems.append(Problem(key, f"expected a list, got {type(raw).__name__}"))
                broken.extend(_ids(raw))
                continue
            item_type = _LISTS[key]
            items = []
            kept: list[int] = []
            for i, item in enumerate(raw):
                try:
                    items.append(conv.structure(item, item_type))
                    kept.append(i)
                except Exception as exc:
                    problems.extend(problems_from(exc, f"{key}[{i}]"))
                    broken.extend(_ids(item))
            values[key] = items
            if len(kept) < len(raw):
                renumber[key] = kept
        elif key == "notify":  # tables keyed by name: every problem with its path
            notify = structure_notify(raw, conv)
            problems.extend(notify.problems)
            broken.extend(notify.broken)
            if notify.settings is not None:
                values[key] = notify.settings
        else:
            try:
                values[key] = conv.structure(raw, _HINTS[key])
            except Exception as exc:
                problems.extend(problems_from(exc, key))
    for key in ("id", "name"):
        if key not in data:
            problems.append(Problem(key, "required field missing"))
            values[key] = "missing"
        elif key not in values:
            values[key] = "missing"
    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(Problem("timezone", f"unknown time zone {values['timezone']!r}"))
            values.pop("timezone")
    try:
        org = Organisation(**values)
    except (TypeError, ValueError) as exc:
        problems.extend(problems_from(exc))
        raise InvalidOrganisation(_in_order(problems), source) from None
    found = _renumbered(find_problems(org, broken), renumber)
    if notify is not None:
        found = notify.renumbered(found)
    problems.extend(found)
    if problems:
        raise InvalidOrganisation(_in_order(problems), source)
    return org


# An item index at the top level of a path (``schools[3]``, ``(first at schools[0])``),
# not one nested under another key (``in_charge[0].units[2]``).
_TOP_INDEX = re.compile(r"(?<![\w.\]])([a-z_]+)\[(\d+)\]")


def _renumbered(problems: list[Problem], kept: dict[str, list[int]]) -> list[Problem]:
    """Problems of the organisation built from the items that loaded, with the indices
    of the file: after a broken ``schools[1]``, the model's ``schools[1]`` is the file's
    ``schools[2]``."""
    if not kept:
        return problems

    def sub(match: re.Match[str]) -> str:
        indices = kept.get(match[1])
        if indices is None:
            return match[0]
        return f"{match[1]}[{indices[int(match[2])]}]"

    return [Problem(_TOP_INDEX.sub(sub, p.path), _TOP_INDEX.sub(sub, p.message)) for p in problems]


_ORDER = {name: i for i, name in enumerate(["format", *attrs.fields_dict(Organisation)])}


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Problems in document order: by top-level key as the model lists them, then by item."""

    def key(p: Problem) -> tuple[int, int]:
        head, _, rest = p.path.split(".", 1)[0].partition("[")
        index = rest.partition("]")[0]
        return _ORDER.get(head, -1), int(index) if index.isdigit() else -1

    return sorted(problems, key=key)


def to_data(org: Organisation, fmt: Format = "json") -> dict[str, Any]:
    """The organisation as file data (dicts, lists, scalars); defaults are left out."""
    data: dict[str, Any] = {"format": FORMAT_VERSION}
    data.update(converter(fmt).unstructure(org))
    return data


def dumps(org: Organisation, fmt: Format = "toml") -> str:
    """The text of a district file holding *org*."""
    return data_text(to_data(org, fmt), fmt)


def data_text(data: dict[str, Any], fmt: Format) -> str:
    """File data (dicts, lists, scalars) as the text of a TOML, JSON or YAML file."""
    if fmt == "toml":
        return tomli_w.dumps(data)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    try:
        import yaml
    except ImportError:
        raise DualdutyError("writing YAML needs PyYAML: pip install 'dualduty[yaml]'") from None
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def dump(org: Organisation, path: str | os.PathLike[str], fmt: Format | None = None) -> None:
    """Write *org* to *path* atomically: the file is complete or left as it was.

    :raises dualduty.DualdutyError: when the format cannot be told from the suffix or
        the file cannot be written.
    """
    try:
        fmt = format_for(path, fmt)
    except InvalidOrganisation as exc:  # nothing is wrong with the organisation itself
        raise DualdutyError(f"cannot write {os.fspath(path)}: {exc.problems[0].message}") from None
    text = dumps(org, fmt)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        # Mode 0o666 lets the umask decide, as for any new file (mkstemp's would be 0o600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    except OSError as exc:
        raise DualdutyError(f"cannot write {os.fspath(path)}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            if target.exists():  # replacing a file keeps its permissions
                os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
