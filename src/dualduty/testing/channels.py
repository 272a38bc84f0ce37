"""The conformance kit for notification channels: what every channel must do, as pytest tests.

A channel plugin runs the kit in its own test suite by subclassing
:class:`ChannelConformance` and providing two fixtures: ``channel``, the channel under
test, delivering to ``receiver``, a stand-in for the provider that the test controls (a
local server playing the SMS gateway, the mail server, the robot)::

    # tests/test_conformance.py of a channel plugin
    import pytest
    from dualduty.testing.channels import ChannelConformance


    class TestSmsChannel(ChannelConformance):
        @pytest.fixture
        def receiver(self):
            with FakeGateway() as gateway:  # a dualduty.testing.channels.Receiver
                yield gateway

        @pytest.fixture
        def channel(self, receiver, monkeypatch):
            monkeypatch.setenv("SMS_KEY", "k-123")
            channel = SmsChannelType().create("sms", {"url": receiver.url, "key": "env:SMS_KEY"})
            yield channel
            channel.close()  # what it keeps open

        @pytest.fixture
        def secrets(self):
            return ["k-123"]

        @pytest.fixture
        def recipient(self):
            return "13800000000"

Every ``test_*`` method of the class then runs against the channel. The kit checks that
the channel is a :class:`~dualduty.notify.Channel` with a name and well-formed optional
attributes; that a delivered message arrives exactly once with its recipient, title and
text (Chinese intact), and many in a row each once, in order; that a refusal is never
reported delivered, and is reported retryable or not as the receiver meant it; that a
receiver that is down gives a retryable failure and, once back, the next message gets
through; that ``deliver`` reports rather than raises; that no secret shows in the
channel's ``repr`` or ``str``, in any detail or in the logs; and that text longer than
the channel's ``max_bytes`` arrives cut at a character boundary (or, without
``max_bytes``, whole).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs
import pytest

from dualduty.notify import Channel, DeliveryResult, RateLimit
from dualduty.storage.store import OutboxMessage

__all__ = ["KIT_TEXT", "KIT_TITLE", "ChannelConformance", "Received", "Receiver"]

#: The title of the kit's messages: Chinese, full-width punctuation, an emoji.
KIT_TITLE = "重大安全隐患：第一中学实验楼消防通道堵塞 🚒"
#: The text of the kit's messages: several lines, quotes, back-slashes, an emoji.
KIT_TEXT = (
    "一岗双责：管业务必管安全。\n"
    '第一中学实验楼一楼消防通道被杂物堵塞，"立即整改"。\n'
    "Reported by the office \\ 领导小组办公室 🚒"
)


@attrs.frozen
class Received:
    """One message as it arrived at a :class:`Receiver`.

    :param recipient: whom the provider was asked to deliver to (the message's
        ``recipient``, or its address part).
    :param title: the title as the provider got it (a mail's subject, decoded).
    :param text: the text as the provider got it, decoded; a receiver removes what its
        transport adds (a mail body's final line break).
    """

    recipient: str
    title: str
    text: str


@runtime_checkable
class Receiver(Protocol):
    """What the kit's ``receiver`` fixture gives: a provider the test controls.

    It is usually a small server on loopback that speaks the provider's protocol. It
    accepts messages until told otherwise.
    """

    def received(self) -> Sequence[Received]:
        """Every message it accepted, in order. A message must be listed by the time the
        receiver answered the channel (record first, then reply)."""

    def refuse(self, *, permanent: bool) -> None:
        """Refuse every message from now on, as the provider does: *permanent* like a
        wrong address or a revoked token (trying again will not help), otherwise like a
        throttle or a busy server (trying later may)."""

    def accept(self) -> None:
        """Accept messages again."""

    def go_down(self) -> None:
        """Stop answering altogether, as a provider that is down: close open connections
        and refuse new ones."""

    def come_back(self) -> None:
        """Answer again, where it answered before."""


class ChannelConformance:
    """Base class of a channel's conformance tests; subclass it in your tests.

    Fixtures a subclass provides:

    ``channel``
        the channel under test, delivering to ``receiver``. Close what it keeps open
        after the test (yield it from the fixture).
    ``receiver``
        a :class:`Receiver` the channel delivers to.
    ``secrets`` (optional)
        the secret strings the channel was given (keys, passwords, signing secrets):
        none may show anywhere. Default: none.
    ``recipient`` (optional)
        a recipient in the channel's terms (an address, a phone number). Default:
        ``safety-office@example.cn``.

    A channel that cannot refuse or be down (one that writes to a log) cannot run the
    kit: its tests have nothing to observe.
    """

    # -- what a channel provides ---------------------------------------------------------------

    @pytest.fixture
    def channel(self) -> Channel:
        """The channel under test. Override this fixture."""
        pytest.fail(
            f"{type(self).__name__} must define a `channel` fixture returning the channel "
            "under test (see dualduty.testing.ChannelConformance)"
        )

    @pytest.fixture
    def receiver(self) -> Receiver:
        """The receiver the channel delivers to. Override this fixture."""
        pytest.fail(
            f"{type(self).__name__} must define a `receiver` fixture returning a "
            "dualduty.testing.Receiver the channel delivers to"
        )

    @pytest.fixture
    def secrets(self) -> Sequence[str]:
        """The secrets the channel holds (default: none)."""
        return ()

    @pytest.fixture
    def recipient(self) -> str:
        """A recipient the channel can deliver to."""
        return "safety-office@example.cn"

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def message(
        channel: Channel,
        recipient: str,
        *,
        title: str = KIT_TITLE,
        text: str = KIT_TEXT,
        markdown: str | None = None,
        urgent: bool = False,
        key: str | None = None,
    ) -> OutboxMessage:
        """An outbox message for *channel*."""
        return OutboxMessage(channel.name, recipient, title, text, markdown, urgent, key)

    @pytest.fixture
    def results(self) -> list[DeliveryResult]:
        """The results of the deliveries a test makes through :meth:`deliver`."""
        return []

    @pytest.fixture
    def deliver(self, channel: Channel, results: list[DeliveryResult]) -> _Deliver:
        """``deliver(message)``: the channel's ``deliver``, checked to return a
        :class:`~dualduty.notify.DeliveryResult` and never raise; results are kept."""

        def deliver(message: OutboxMessage) -> DeliveryResult:
            try:
                result = channel.deliver(message)
            except Exception as e:  # the kit reports it as a failure of the channel
                pytest.fail(
                    f"{channel!r}.deliver raised {type(e).__name__}: {e}; a channel reports "
                    "a provider's failure in its DeliveryResult instead"
                )
            assert isinstance(result, DeliveryResult), (
                f"deliver returned {type(result).__name__}, not a DeliveryResult"
            )
            assert not (result.delivered and result.retryable), (
                f"a delivered result is not retryable: {result}"
            )
            results.append(result)
            return result

        return deliver

    # -- the channel ---------------------------------------------------------------------------

    def test_is_a_channel(self, channel: Channel) -> None:
        """A named :class:`~dualduty.notify.Channel` with well-formed optional attributes."""
        assert isinstance(channel, Channel), f"{channel!r} lacks `name` or `deliver`"
        assert isinstance(channel.name, str), "a channel's name is text"
        assert channel.name.strip(), "a channel's name is not blank"
        assert channel.name == channel.name.strip(), "a channel's name has no spaces around"
        limits = getattr(channel, "rate_limits", ())
        assert not isinstance(limits, str | RateLimit), "rate_limits is a sequence of RateLimit"
        assert isinstance(limits, Sequence), "rate_limits is a sequence of RateLimit"
        for limit in limits:
            assert isinstance(limit, RateLimit), f"rate_limits holds {limit!r}, not a RateLimit"
        max_bytes = getattr(channel, "max_bytes", None)
        if max_bytes is not None:
            assert isinstance(max_bytes, int), "max_bytes is a whole number or None"
            assert not isinstance(max_bytes, bool), "max_bytes is a whole number or None"
            assert max_bytes >= len("…".encode()), "max_bytes leaves room for a cut's marker"

    # -- delivering ----------------------------------------------------------------------------

    def test_delivered_message_arrives_once(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """A delivered message arrives exactly once, with its recipient, title and text."""
        result = deliver(self.message(channel, recipient, key="kit:once"))
        assert result.delivered, f"not delivered to a receiver that accepts: {result}"
        assert receiver.received() == [Received(recipient, KIT_TITLE, KIT_TEXT)]

    def test_many_in_a_row(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """Twenty messages in a row each arrive once, in order (connections are reused or
        made again as the channel likes)."""
        sent = [
            self.message(
                channel, recipient, title=f"提醒 {i}", text=f"第 {i} 条：明天督查", key=f"k{i}"
            )
            for i in range(20)
        ]
        for message in sent:
            result = deliver(message)
            assert result.delivered, f"{message.title}: {result}"
        assert receiver.received() == [Received(recipient, m.title, m.text) for m in sent]

    def test_urgent_markdown_message_arrives(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """An urgent message with a Markdown body arrives with its title."""
        message = self.message(
            channel, recipient, markdown="**重大安全隐患**\n\n- 实验楼：消防通道堵塞", urgent=True
        )
        result = deliver(message)
        assert result.delivered, result
        arrived = receiver.received()
        assert len(arrived) == 1
        assert arrived[0].title == KIT_TITLE
        assert arrived[0].recipient == recipient

    # -- refusals and outages ------------------------------------------------------------------

    def test_permanent_refusal_is_a_failure(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """A permanent refusal is reported not delivered and not retryable."""
        receiver.refuse(permanent=True)
        result = deliver(self.message(channel, recipient))
        assert not result.delivered, f"a refused message reported delivered: {result}"
        assert not result.retryable, f"a permanent refusal reported retryable: {result}"
        assert result.detail, "a failure says what happened"
        assert receiver.received() == []

    def test_temporary_refusal_is_retryable(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """A temporary refusal is reported not delivered and retryable."""
        receiver.refuse(permanent=False)
        result = deliver(self.message(channel, recipient))
        assert not result.delivered, f"a refused message reported delivered: {result}"
        assert result.retryable, f"a temporary refusal reported permanent: {result}"
        assert result.retry_after is None or result.retry_after >= 0
        assert result.detail, "a failure says what happened"
        assert receiver.received() == []

    def test_accepted_again_after_refusals(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """After refusals of both kinds, the next accepted message gets through once."""
        receiver.refuse(permanent=True)
        assert not deliver(self.message(channel, recipient, title="一")).delivered
        receiver.refuse(permanent=False)
        assert not deliver(self.message(channel, recipient, title="二")).delivered
        receiver.accept()
        result = deliver(self.message(channel, recipient, title="三"))
        assert result.delivered, result
        assert receiver.received() == [Received(recipient, "三", KIT_TEXT)]

    def test_receiver_down_is_retryable(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """A receiver that is down gives a retryable failure; once it is back, the next
        message is delivered, once."""
        assert deliver(self.message(channel, recipient, title="before")).delivered
        receiver.go_down()
        try:
            for i in range(2):
                result = deliver(self.message(channel, recipient, title=f"down {i}"))
                assert not result.delivered, f"delivered to a receiver that is down: {result}"
                assert result.retryable, f"a receiver that is down reported permanent: {result}"
        finally:
            receiver.come_back()
        result = deliver(self.message(channel, recipient, title="after"))
        assert result.delivered, f"not delivered once the receiver is back: {result}"
        assert [r.title for r in receiver.received()] == ["before", "after"]

    # -- secrets -------------------------------------------------------------------------------

    def test_no_secret_shows(  # noqa: PLR0917 -- pytest passes fixtures as parameters
        self,
        channel: Channel,
        receiver: Receiver,
        recipient: str,
        secrets: Sequence[str],
        deliver: _Deliver,
        results: list[DeliveryResult],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """No secret in ``repr``, ``str``, any result (delivered, refused, down) or log."""
        for secret in secrets:
            assert isinstance(secret, str), "the secrets fixture gives strings"
            assert len(secret) >= 3, "the kit's secrets are long enough to search for"
        with caplog.at_level(logging.DEBUG):
            deliver(self.message(channel, recipient))
            receiver.refuse(permanent=True)
            deliver(self.message(channel, recipient))
            receiver.refuse(permanent=False)
            deliver(self.message(channel, recipient))
            receiver.accept()
            receiver.go_down()
            try:
                deliver(self.message(channel, recipient))
            finally:
                receiver.come_back()
        shown = [repr(channel), str(channel), *(repr(r) for r in results), caplog.text]
        shown += [str(r.provider_code) for r in results]
        for secret in secrets:
            for text in shown:
                assert secret not in text, f"a secret shows in {text[:200]!r}"

    # -- limits --------------------------------------------------------------------------------

    def test_long_text(
        self, channel: Channel, receiver: Receiver, recipient: str, deliver: _Deliver
    ) -> None:
        """Text longer than ``max_bytes`` arrives cut at a character boundary, starting as
        the message did; without ``max_bytes``, a long text (30 KB) arrives whole."""
        max_bytes = getattr(channel, "max_bytes", None)
        unit = "一岗双责，管业务必管安全。🚒"
        size = 30_000 if max_bytes is None else max_bytes * 2
        text = unit * (size // len(unit.encode()) + 1)
        result = deliver(self.message(channel, recipient, text=text))
        assert result.delivered, result
        (arrived,) = receiver.received()
        if max_bytes is None:
            assert arrived.text == text, "a long text did not arrive whole"
            return
        assert len(arrived.text.encode()) <= max_bytes, (
            f"{len(arrived.text.encode())} bytes arrived; max_bytes is {max_bytes}"
        )
        kept = arrived.text.rstrip("…")  # fit_bytes's marker, if the channel used it
        assert kept, "nothing of the text arrived"
        assert text.startswith(kept), "the text arrived changed, not only cut"


class _Deliver(Protocol):
    def __call__(self, message: OutboxMessage) -> DeliveryResult: ...
