"""Notification channels: what a channel plugin implements and what it reports back.

Routing, templates and the outbox dispatcher come later; this module fixes the types
the channel hooks exchange (:class:`Channel`, :class:`DeliveryResult`).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from dualduty.storage.store import OutboxMessage

__all__ = ["Channel", "DeliveryResult", "OutboxMessage"]


@attrs.frozen
class DeliveryResult:
    """What a channel says about one delivery attempt. Never report success you did not get.

    :param delivered: the provider accepted the message.
    :param retryable: when not delivered, whether trying again later may succeed
        (a time-out, a rate limit) or not (a bad address, a refused robot token).
    :param provider_code: the provider's own code (``errcode`` of a WeCom robot, an SMTP
        reply code), as text.
    :param detail: a human-readable explanation, without secrets.
    """

    delivered: bool
    retryable: bool = False
    provider_code: str | None = None
    detail: str = ""

    @classmethod
    def ok(cls, provider_code: str | None = None, detail: str = "") -> DeliveryResult:
        """A delivery the provider accepted."""
        return cls(True, False, provider_code, detail)

    @classmethod
    def retry(cls, detail: str, provider_code: str | None = None) -> DeliveryResult:
        """A failure worth trying again later."""
        return cls(False, True, provider_code, detail)

    @classmethod
    def failed(cls, detail: str, provider_code: str | None = None) -> DeliveryResult:
        """A failure that trying again will not fix."""
        return cls(False, False, provider_code, detail)


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a rendered notification (console, email, a robot webhook, …)."""

    name: str
    """The channel's name, as routing rules and outbox messages refer to it."""

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Try once to deliver *message*; report what happened. Do not retry here."""
