"""Notification channels: what a channel plugin implements and what it reports back.

A *channel* (:class:`Channel`) delivers one rendered message (:class:`OutboxMessage`)
and says honestly what happened (:class:`DeliveryResult`). A *channel type*
(:class:`ChannelType`) makes channels from the ``[notify.channels.<name>]`` tables of a
district file (a robot's URL, a mail server, the reference to a secret), so that one
plugin serves any number of robots or mailboxes. Both are registered through the
channel hooks (:mod:`dualduty.hookspecs`).

Secrets (robot keys, signing secrets, mail passwords) are never written into a file:
a setting names where to find them (``"env:NAME"`` or ``"file:/path"``) and
:func:`resolve_secret` reads them into a :class:`Secret`, which never shows its value in
a ``repr``, a log or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from dualduty.errors import DualdutyError
from dualduty.storage.store import OutboxMessage

__all__ = [
    "Channel",
    "ChannelConfigError",
    "ChannelType",
    "DeliveryResult",
    "OutboxMessage",
    "RateLimit",
    "Secret",
    "fit_bytes",
    "resolve_secret",
]


@attrs.frozen
class DeliveryResult:
    """What a channel says about one delivery attempt. Never report success you did not get.

    :param delivered: the provider accepted the message.
    :param retryable: when not delivered, whether trying again later may succeed
        (a time-out, a rate limit) or not (a bad address, a refused robot token).
    :param provider_code: the provider's own code (``errcode`` of a WeCom robot, an SMTP
        reply code), as text.
    :param detail: a human-readable explanation, without secrets.
    :param retry_after: when not delivered but retryable, the seconds the provider asked
        to wait (a throttle), if it said; the dispatcher waits at least that long.
    """

    delivered: bool
    retryable: bool = False
    provider_code: str | None = None
    detail: str = ""
    retry_after: float | None = None

    @classmethod
    def ok(cls, provider_code: str | None = None, detail: str = "") -> DeliveryResult:
        """A delivery the provider accepted."""
        return cls(True, False, provider_code, detail)

    @classmethod
    def retry(
        cls, detail: str, provider_code: str | None = None, *, retry_after: float | None = None
    ) -> DeliveryResult:
        """A failure worth trying again later (after *retry_after* seconds, if known)."""
        return cls(False, True, provider_code, detail, retry_after)

    @classmethod
    def failed(cls, detail: str, provider_code: str | None = None) -> DeliveryResult:
        """A failure that trying again will not fix."""
        return cls(False, False, provider_code, detail)


@attrs.frozen
class RateLimit:
    """At most *count* messages per *seconds* through one channel (a token bucket).

    A DingTalk or WeCom robot takes 20 a minute (``RateLimit(20, 60)``); a Feishu robot
    100 a minute and 5 a second (two limits, both kept).
    """

    count: int = attrs.field(validator=attrs.validators.gt(0))
    seconds: float = attrs.field(converter=float, validator=attrs.validators.gt(0))


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a rendered notification (console, email, a robot webhook, …).

    Optional attributes the dispatcher honours when a channel has them:

    - ``rate_limits``: a sequence of :class:`RateLimit`, all kept (default: none);
    - ``max_bytes``: the most UTF-8 bytes of text the provider takes in one message; the
      renderer cuts longer texts with :func:`fit_bytes` (default: no limit).
    """

    name: str
    """The channel's name, as routing rules and outbox messages refer to it."""

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Try once to deliver *message*; report what happened. Do not retry here.

        Report ``delivered`` only when the provider said it accepted the message (an
        HTTP 200 carrying an error code is a failure). Never put a secret in ``detail``.
        Raising is treated as a retryable failure with the exception's type as detail.
        """


@runtime_checkable
class ChannelType(Protocol):
    """Makes channels of one kind from the settings of a district file.

    ``[notify.channels.office-robot]`` with ``type = "dingtalk"`` and the settings
    ``url = "…"``, ``secret = "env:DINGTALK_SECRET"`` becomes
    ``types["dingtalk"].create("office-robot", {"url": "…", "secret": "env:…"})``.
    """

    name: str
    """The type's name, as ``type = "…"`` in the district file gives it."""

    def create(self, name: str, settings: Mapping[str, Any]) -> Channel:
        """A channel called *name* from *settings* (everything of its table but ``type``).

        Resolve secrets with :func:`resolve_secret`. Raise :class:`ChannelConfigError`
        naming the setting for anything missing or wrong.
        """


class ChannelConfigError(DualdutyError):
    """A channel's settings are missing or wrong, or a secret cannot be read.

    The message names the setting (``notify.channels.office-robot.secret``) and never a
    secret's value.
    """


@attrs.frozen(repr=False)
class Secret:
    """A secret read from the environment or a file. Its value never shows in a ``repr``,
    ``str``, log or error message; :meth:`reveal` gives it to the code that signs or logs
    in with it.

    >>> from dualduty.notify import Secret
    >>> s = Secret("SEC123", "env:ROBOT_SECRET")
    >>> s
    Secret('env:ROBOT_SECRET')
    >>> s.reveal()
    'SEC123'
    """

    _value: str
    source: str
    """Where it came from (``env:NAME``, ``file:/path``), which may be shown."""

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.source!r})"

    __str__ = __repr__


def resolve_secret(ref: object, *, where: str) -> Secret:
    """Read the secret *ref* names: ``"env:NAME"`` (an environment variable) or
    ``"file:PATH"`` (a file's text, surrounding white space removed).

    A secret written into the setting itself is refused: district files are shared and
    kept in version control.

    :param ref: the setting's value.
    :param where: the setting's path, for messages (``notify.channels.office-robot.secret``).
    :raises ChannelConfigError: if *ref* is no reference, or names nothing readable.
    """
    if not isinstance(ref, str) or not ref.startswith(("env:", "file:")):
        raise ChannelConfigError(
            f"{where}: expected 'env:NAME' or 'file:PATH' naming where the secret is kept; "
            "secrets are not written into district files"
        )
    how, _, name = ref.partition(":")
    if not name:
        raise ChannelConfigError(
            f"{where}: {ref!r} names no {'variable' if how == 'env' else 'file'}"
        )
    if how == "env":
        value = os.environ.get(name)
        if not value:
            raise ChannelConfigError(f"{where}: the environment variable {name} is not set")
        return Secret(value, ref)
    try:
        text = Path(name).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ChannelConfigError(
            f"{where}: cannot read the secret file {name}: {e.strerror or type(e).__name__}"
        ) from None
    if not text:
        raise ChannelConfigError(f"{where}: the secret file {name} is empty")
    return Secret(text, ref)


def fit_bytes(text: str, max_bytes: int, *, marker: str = "…") -> str:
    """*text* cut to at most *max_bytes* UTF-8 bytes, never inside a character, ending in
    *marker* when cut.

    >>> from dualduty.notify import fit_bytes
    >>> fit_bytes("重大隐患立即上报", 12)
    '重大隐…'
    >>> len(fit_bytes("重大隐患立即上报", 12).encode())
    12
    >>> fit_bytes("ok", 12)
    'ok'
    """
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(marker.encode("utf-8"))
    if room < 0:
        raise ValueError(f"max_bytes {max_bytes} leaves no room for the marker {marker!r}")
    # errors="ignore" drops the partial character the cut may leave at the end
    return data[:room].decode("utf-8", errors="ignore") + marker
