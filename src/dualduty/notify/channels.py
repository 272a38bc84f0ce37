"""Channels from a district file: :func:`make_channels`, the ``console`` channel type and
:class:`ChannelSettings`, the reader channel types use for their settings.

A district file names its channels in ``[notify.channels.<name>]`` tables::

    [notify.channels.office-mail]
    type = "email"
    host = "smtp.example.cn"
    sender = "区教体局安全办 <safety@example.cn>"
    username = "safety@example.cn"
    password = "env:SAFETY_MAIL_PASSWORD"

    [notify.channels.duty-log]
    type = "console"

:func:`make_channels` turns each table into a channel with the channel type its ``type``
names (:meth:`dualduty.plugins.Hooks.channel_types`), next to the channels plugins register
as they are (:meth:`dualduty.plugins.Hooks.channels`). Every problem of every table is
reported at once, each under its path (``notify.channels.office-mail.host: …``), and
secrets are read when the channels are made: a missing environment variable stops the
start, not the delivery of a major hazard at 3 a.m.

The built-in types are ``console`` (:class:`ConsoleChannelType`, here), ``email``
(:class:`dualduty.notify.email.EmailChannelType`) and ``webhook``
(:class:`dualduty.notify.webhook.WebhookChannelType`); :func:`builtin_channel_types`
lists them. This module imports neither the SMTP nor the HTTP machinery: those load when
a channel type is asked for.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import Channel, ChannelConfigError, ChannelType, DeliveryResult, RateLimit, Secret
from . import resolve_secret as _resolve_secret

if TYPE_CHECKING:
    import socket

    from dualduty.plugins import Hooks
    from dualduty.storage.store import OutboxMessage

__all__ = [
    "CONSOLE_LOGGER",
    "ChannelSettings",
    "ConsoleChannel",
    "ConsoleChannelType",
    "builtin_channel_types",
    "make_channels",
]

#: The logger the ``console`` channel writes to, unless its ``logger`` setting names another.
CONSOLE_LOGGER = "dualduty.notify.console"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


# -- reading settings --------------------------------------------------------------------------


class ChannelSettings:
    """Reads the settings of one channel table, collecting every problem before raising.

    A channel type reads each setting once with the typed readers below, then calls
    :meth:`done`, which raises one :class:`~dualduty.notify.ChannelConfigError` listing every
    problem — wrong types, missing settings, unreadable secrets, and settings nobody read
    (a misspelt ``pasword``) — one per line, each under its path
    ``notify.channels.<name>.<setting>``. A reader returns its default after a problem, so
    reading can go on.

    >>> from dualduty.notify.channels import ChannelSettings
    >>> s = ChannelSettings("gw", {"url": "https://sms.example.cn", "retry": 3})
    >>> s.text("url", required=True)
    'https://sms.example.cn'
    >>> s.done()
    Traceback (most recent call last):
    ...
    dualduty.notify.ChannelConfigError: notify.channels.gw.retry: unknown setting (known: type, url)
    """

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self._settings = settings
        self._read: set[str] = {"type"}
        self.problems: list[str] = []
        """The problems found so far, as ``path: message`` lines."""

    def where(self, key: str) -> str:
        """The path of setting *key*: ``notify.channels.<name>.<key>``."""
        return f"notify.channels.{self.name}.{key}"

    def problem(self, key: str, message: str) -> None:
        """Record a problem with setting *key* (for checks the readers do not make)."""
        self.problems.append(f"{self.where(key)}: {message}")

    def _get(self, key: str, required: bool, what: str) -> Any:
        self._read.add(key)
        value = self._settings.get(key)
        if value is None and required:
            self.problem(key, f"missing; {what}" if what else "missing")
        return value

    def text(
        self, key: str, default: str | None = None, *, required: bool = False, what: str = ""
    ) -> str | None:
        """A non-empty string (``None`` or *default* when absent).

        :param what: what the setting is, for the message when it is missing.
        """
        value = self._get(key, required, what)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"expected non-empty text, got {_shown(value)}")
            return default
        return value

    def required(self, key: str, what: str) -> str:
        """Non-empty text that must be given (``""`` after a problem, reported at :meth:`done`).

        :param what: what the setting is, for the message when it is missing.
        """
        return self.text(key, required=True, what=what) or ""

    def choice(self, key: str, choices: Sequence[str], default: str) -> str:
        """One of *choices* (*default* when absent)."""
        value = self._get(key, False, "")
        if value is None:
            return default
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            self.problem(key, f"{_shown(value)} is not one of {listed}")
            return default
        return str(value)

    def integer(
        self, key: str, default: int | None = None, *, minimum: int = 1, maximum: int | None = None
    ) -> int | None:
        """A whole number between *minimum* and *maximum* (*default* when absent)."""
        value = self._get(key, False, "")
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected a whole number, got {_shown(value)}")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            bounds = f"between {minimum}{upper}" if upper else f"at least {minimum}"
            self.problem(key, f"expected a number {bounds}, got {value}")
            return default
        return value

    def number(self, key: str, default: float) -> float:
        """A positive, finite number of seconds or the like (*default* when absent)."""
        value = self._get(key, False, "")
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, f"expected a number, got {_shown(value)}")
            return default
        if not math.isfinite(value) or value <= 0:
            self.problem(key, f"expected a positive number, got {value}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false`` (*default* when absent)."""
        value = self._get(key, False, "")
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {_shown(value)}")
            return default
        return value

    def file(self, key: str) -> str | None:
        """The path of a file that exists, ``~`` expanded (``None`` when absent)."""
        value = self.text(key)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            self.problem(key, f"no such file: {value}")
            return None
        return str(path)

    def secret(self, key: str, *, required: bool = False, what: str = "") -> Secret | None:
        """A secret named by ``"env:NAME"`` or ``"file:PATH"``, read now
        (:func:`~dualduty.notify.resolve_secret`); a secret written in the file is refused."""
        value = self._get(key, required, what)
        if value is None:
            return None
        try:
            return _resolve_secret(value, where=self.where(key))
        except ChannelConfigError as e:
            self.problems.append(str(e))
            return None

    def rate_limits(self, key: str = "rate_limits") -> tuple[RateLimit, ...]:
        """Rate limits: a list of tables like ``{count = 20, seconds = 60}``
        (:class:`~dualduty.notify.RateLimit`)."""
        value = self._get(key, False, "")
        if value is None:
            return ()
        if isinstance(value, Mapping):
            value = [value]
        if isinstance(value, str) or not isinstance(value, Sequence):
            self.problem(key, "expected a list of tables like {count = 20, seconds = 60}")
            return ()
        limits = []
        for i, item in enumerate(value):
            count = item.get("count") if isinstance(item, Mapping) else None
            seconds = item.get("seconds") if isinstance(item, Mapping) else None
            extra = set(item) - {"count", "seconds"} if isinstance(item, Mapping) else set()
            if (
                isinstance(count, bool)
                or not isinstance(count, int)
                or count <= 0
                or isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not math.isfinite(seconds)
                or seconds <= 0
                or extra
            ):
                self.problem(
                    f"{key}[{i}]",
                    f"expected {{count = <whole number > 0>, seconds = <number > 0>}}, "
                    f"got {_shown(item)}",
                )
                continue
            limits.append(RateLimit(count, seconds))
        return tuple(limits)

    def done(self) -> None:
        """Raise :class:`~dualduty.notify.ChannelConfigError` with every problem found, and
        one for each setting no reader asked for.
        """
        unknown = sorted(set(self._settings) - self._read)
        known = ", ".join(sorted(self._read))
        for key in unknown:
            self.problem(key, f"unknown setting (known: {known})")
        if self.problems:
            raise ChannelConfigError("\n".join(self.problems))


def _shown(value: object) -> str:
    """A setting's value for a message, short; settings that hold secrets are references."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the console channel -----------------------------------------------------------------------


class ConsoleChannel:
    """Writes each notification to a logger (``dualduty.notify.console`` by default).

    For development and for a duty log: the line shows ``[急]`` for urgent messages, the
    channel, the recipient and the title, then the text. It never refuses, so it reports
    every message delivered.

    :param name: the channel's name.
    :param logger: the logger to write to.
    :param level: the level of the records (``logging.WARNING`` by default, so that the
        messages show with Python's default logging set-up).
    """

    max_bytes: int | None = None
    rate_limits: Sequence[RateLimit] = ()

    def __init__(
        self, name: str = "console", *, logger: str = CONSOLE_LOGGER, level: int = logging.WARNING
    ) -> None:
        self.name = name
        self.logger = logging.getLogger(logger)
        self.level = level

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Log *message*; always delivered."""
        self.logger.log(
            self.level,
            "%s%s → %s: %s\n%s",
            "[急] " if message.urgent else "",
            message.channel,
            message.recipient,
            message.title,
            message.text,
        )
        return DeliveryResult.ok(detail="logged")

    def __repr__(self) -> str:
        return f"ConsoleChannel({self.name!r}, logger={self.logger.name!r})"


class ConsoleChannelType:
    """The ``console`` channel type: ``type = "console"``, with optional settings ``logger``
    (a logger name, default ``dualduty.notify.console``) and ``level`` (``"debug"``,
    ``"info"`` or ``"warning"``, the default).

    >>> from dualduty.notify.channels import ConsoleChannelType
    >>> ConsoleChannelType().create("duty-log", {"level": "info"})
    ConsoleChannel('duty-log', logger='dualduty.notify.console')
    """

    name = "console"

    def create(self, name: str, settings: Mapping[str, Any]) -> ConsoleChannel:
        """A :class:`ConsoleChannel` called *name*."""
        s = ChannelSettings(name, settings)
        logger = s.text("logger", CONSOLE_LOGGER) or CONSOLE_LOGGER
        level = s.choice("level", tuple(_LEVELS), "warning")
        s.done()
        return ConsoleChannel(name, logger=logger, level=_LEVELS[level])


def builtin_channel_types() -> list[ChannelType]:
    """The channel types dualduty ships: ``console``, ``email`` and ``webhook``.

    >>> from dualduty.notify.channels import builtin_channel_types
    >>> [t.name for t in builtin_channel_types()]
    ['console', 'email', 'webhook']
    """
    from .email import EmailChannelType
    from .webhook import WebhookChannelType

    return [ConsoleChannelType(), EmailChannelType(), WebhookChannelType()]


# -- making channels ---------------------------------------------------------------------------


def make_channels(
    tables: Mapping[str, Mapping[str, Any]], *, hooks: Hooks | None = None
) -> dict[str, Channel]:
    """The channels to deliver through: those plugins register, and one per table.

    Each table of *tables* (the ``[notify.channels]`` part of a district file: name →
    settings) is made into a channel by the channel type its ``type`` setting names, with
    the other settings. A table replaces a registered channel of the same name: the file
    says what it wants.

    >>> from dualduty.notify.channels import make_channels
    >>> channels = make_channels({"duty-log": {"type": "console"}})
    >>> sorted(channels)
    ['console', 'duty-log']
    >>> make_channels({"office": {"type": "pager"}, "mail": {"type": "email"}})
    Traceback (most recent call last):
    ...
    dualduty.notify.ChannelConfigError: 3 problems in the channel settings:
      notify.channels.office.type: unknown channel type 'pager' (known: console, email, webhook)
      notify.channels.mail.host: missing; the SMTP server's name
      notify.channels.mail.sender: missing; the From address, like '安全办 <safety@example.cn>'

    :param tables: the channel tables by name.
    :param hooks: the plugin hooks to ask (default: :func:`dualduty.plugins.hooks`).
    :raises ChannelConfigError: listing every problem of every table, each under its
        path ``notify.channels.<name>.<setting>``.
    """
    if hooks is None:
        from dualduty.plugins import hooks as _hooks

        hooks = _hooks()
    channels = dict(hooks.channels())
    types = hooks.channel_types() if tables else {}
    known = ", ".join(sorted(types)) or "none registered"
    problems: list[str] = []
    for name, table in _items(tables):
        where = f"notify.channels.{name}"
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            problems.append(f"{where}: a channel's name is non-empty text without spaces around")
            continue
        if not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table of settings, got {type(table).__name__}")
            continue
        kind = table.get("type")
        if kind is None:
            problems.append(f"{where}.type: missing; the channel type (one of: {known})")
            continue
        channel_type = types.get(kind) if isinstance(kind, str) else None
        if channel_type is None:
            problems.append(f"{where}.type: unknown channel type {_shown(kind)} (known: {known})")
            continue
        settings = {k: v for k, v in table.items() if k != "type"}
        try:
            channel = channel_type.create(name, settings)
        except ChannelConfigError as e:
            problems.extend(_lines(str(e), where))
            continue
        except Exception as e:  # a plugin's bug, reported with the others
            problems.append(
                f"{where}: the channel type {kind!r} failed to make the channel: "
                f"{type(e).__name__}: {e}"
            )
            continue
        if not isinstance(channel, Channel) or channel.name != name:
            problems.append(
                f"{where}: the channel type {kind!r} made {type(channel).__name__} "
                f"named {getattr(channel, 'name', None)!r}, not a channel named {name!r}"
            )
            continue
        channels[name] = channel
    if problems:
        if len(problems) == 1:
            raise ChannelConfigError(problems[0])
        head = f"{len(problems)} problems in the channel settings:"
        raise ChannelConfigError("\n  ".join([head, *problems]))
    return channels


def _items(tables: Mapping[str, Mapping[str, Any]]) -> list[tuple[object, object]]:
    """The tables as read from a file, whose types are not yet checked."""
    return list(tables.items())


def _lines(message: str, where: str) -> list[str]:
    """The lines of a channel type's error, each under the table's path."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return [line if line.startswith(where) else f"{where}: {line}" for line in lines] or [
        f"{where}: invalid settings"
    ]


# -- shared by the email and webhook channels --------------------------------------------------


def _stale(sock: socket.socket | None) -> bool:
    """Whether a kept-open connection has been closed (or spoken to) by the other side.

    Between requests nothing should arrive: a readable socket means the peer closed it
    (end of file) or sent something unasked, like an SMTP ``421`` before closing. Checked
    without waiting, before a connection is reused.
    """
    import select  # here: the console channel, imported by the built-in plugin, needs none

    if sock is None:
        return True
    pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted
    if pending is not None and pending():
        return True
    try:
        if hasattr(select, "poll"):  # not limited to descriptors below FD_SETSIZE
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed underneath us
        return True
    return bool(readable)


def _scrub(text: str, *secrets: Secret | None) -> str:
    """*text* with any secret's value replaced by ``***`` (for details and logs)."""
    for secret in secrets:
        if secret is not None and secret.reveal() and secret.reveal() in text:
            text = text.replace(secret.reveal(), "***")
    return text
