"""DingTalk (钉钉), WeCom (企业微信) and Feishu/Lark (飞书) group robots as channels.

Each provider's robot is a webhook: an HTTPS address that posts into one group chat. A
channel made by :class:`DingTalkType`, :class:`WeComType` or :class:`FeishuType` from a
``[notify.channels.<name>]`` table posts each message there and reads the robot's JSON
answer. **A message counts as delivered only when the answer's error code is 0**: all
three providers answer HTTP 200 when they refuse a message (a wrong token, a failed
signature, a missing keyword, a throttle), and only the code says so.

How each answer is reported (:class:`dualduty.notify.DeliveryResult`):

- the provider's code 0: delivered;
- a throttle (DingTalk 130101 and 410100, WeCom 45009, Feishu 11232 and 9499 "too
  many requests"), HTTP 429, HTTP 5xx, a refused or broken connection, a time-out, an
  answer that is not the robot's JSON: retryable, with ``retry_after`` for a throttle
  (DingTalk locks a robot out for 10 minutes after more than 20 messages a minute);
- a signature refused (DingTalk 310000 "sign not match" or "invalid timestamp", Feishu
  19021): retryable **once** per message, since a clock more than an hour off causes it
  as surely as a wrong secret, then permanent. The channel remembers which messages
  already had one (by :attr:`~dualduty.notify.OutboxMessage.key`, or the message itself
  when it has no key) for as long as it lives;
- anything else the robot refuses (an unknown token, key or hook id, a keyword or IP
  whitelist check, a stopped robot, a malformed message) and any other HTTP 4xx:
  permanent.

The provider's code is always in ``provider_code``; the detail says what it means and
what to check, and never holds a token, key, hook id, signing secret or signature.
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import SplitResult, quote, unquote_plus, urlsplit

import attrs

from dualduty.notify import (
    ChannelConfigError,
    DeliveryResult,
    OutboxMessage,
    RateLimit,
    Secret,
    fit_bytes,
)

from .signing import dingtalk_sign, feishu_sign

if TYPE_CHECKING:  # imported when a message is first sent: loading the plugin stays light
    import http.client

__all__ = [
    "DINGTALK_THROTTLE",
    "FEISHU_THROTTLE",
    "WECOM_THROTTLE",
    "Clock",
    "DingTalkChannel",
    "DingTalkType",
    "FeishuChannel",
    "FeishuType",
    "RobotChannel",
    "RobotType",
    "Verdict",
    "WeComChannel",
    "WeComType",
    "classify_dingtalk",
    "classify_feishu",
    "classify_wecom",
]

_log = logging.getLogger("dualduty_im")

#: Seconds since the epoch, like :func:`time.time` (the default). Tests give a clock they
#: move by hand.
Clock = Callable[[], float]

#: Seconds a DingTalk robot refuses messages after more than 20 in a minute (钉钉: "如果超过
#: 20条，会限流10分钟").
DINGTALK_THROTTLE = 600.0
#: Seconds to wait after a WeCom throttle (45009): its window is a minute.
WECOM_THROTTLE = 60.0
#: Seconds to wait after a Feishu throttle (11232): its longer window is a minute.
FEISHU_THROTTLE = 60.0

#: How long an answer's message may be in a detail (the rest is cut).
_MAX_ERRMSG = 200
#: The most of an answer read; a robot's answer is a few dozen bytes.
_MAX_ANSWER = 64 * 1024
#: How many messages with a refused signature a channel remembers (the oldest go first).
_SIGNATURE_MEMORY = 4096
_DEFAULT_TIMEOUT = 10.0


@attrs.frozen
class Verdict:
    """What a robot's answer code means, before the channel turns it into a result.

    :param kind: ``ok``; ``retry`` (try again later); ``failed`` (permanent);
        ``signature`` (the signature or its timestamp was refused: retryable once).
    :param detail: what happened and what to check, without secrets.
    :param retry_after: seconds the provider makes us wait (a throttle), if known.
    """

    kind: Literal["ok", "retry", "failed", "signature"]
    detail: str
    retry_after: float | None = None


def _said(errmsg: str) -> str:
    """The provider's own words, short and on one line, for a detail."""
    text = " ".join(errmsg.split())
    if len(text) > _MAX_ERRMSG:
        text = text[: _MAX_ERRMSG - 1] + "…"
    return f' "{text}"' if text else ""


def classify_dingtalk(errcode: int, errmsg: str) -> Verdict:
    """What a DingTalk robot's ``{"errcode": …, "errmsg": …}`` means.

    >>> classify_dingtalk(0, "ok").kind
    'ok'
    >>> v = classify_dingtalk(130101, "send too fast, exceed 20 times per minute")
    >>> v.kind, v.retry_after
    ('retry', 600.0)
    >>> classify_dingtalk(310000, "sign not match").kind
    'signature'
    >>> classify_dingtalk(310000, "keywords not in content").kind
    'failed'
    """
    said = f"errcode {errcode}{_said(errmsg)}"
    low = errmsg.lower()
    if errcode == 0:
        return Verdict("ok", f"DingTalk accepted the message ({said})")
    if errcode in (130101, 410100) or "too fast" in low:
        return Verdict(
            "retry",
            f"DingTalk throttles this robot ({said}): more than 20 messages a minute, "
            "after which it refuses messages for 10 minutes",
            DINGTALK_THROTTLE,
        )
    if errcode == -1:
        return Verdict("retry", f"DingTalk is busy ({said})")
    if errcode == 310000:
        if "sign" in low or "timestamp" in low:
            return Verdict(
                "signature",
                f"DingTalk refused the signature ({said}): check that the channel's "
                "secret is the robot's 加签 secret and that this machine's clock is right "
                "(DingTalk refuses a timestamp more than an hour off)",
            )
        if "keyword" in low:
            return Verdict(
                "failed",
                f"DingTalk refused the message ({said}): it holds none of the robot's "
                "custom keywords (自定义关键词)",
            )
        if "ip" in low or "whitelist" in low:
            return Verdict(
                "failed",
                f"DingTalk refused the message ({said}): this machine's address is not in "
                "the robot's IP whitelist (IP地址段)",
            )
        return Verdict("failed", f"DingTalk's security check refused the message ({said})")
    if errcode in (300001, 300005, 400101):
        return Verdict(
            "failed",
            f"DingTalk knows no robot with this access token ({said}): check the "
            "channel's token, or whether the robot was removed from the group",
        )
    if errcode in (400102, 400106, 400013):
        return Verdict(
            "failed",
            f"the robot is stopped, gone, or its group dissolved ({said})",
        )
    if 430101 <= errcode <= 430104:
        return Verdict("failed", f"DingTalk's content check refused the message ({said})")
    return Verdict("failed", f"DingTalk refused the message ({said})")


def classify_wecom(errcode: int, errmsg: str) -> Verdict:
    """What a WeCom robot's ``{"errcode": …, "errmsg": …}`` means.

    >>> classify_wecom(45009, "api freq out of limit").retry_after
    60.0
    >>> classify_wecom(93000, "invalid webhook url").kind
    'failed'
    """
    said = f"errcode {errcode}{_said(errmsg)}"
    if errcode == 0:
        return Verdict("ok", f"WeCom accepted the message ({said})")
    if errcode in (45009, 45033):
        return Verdict(
            "retry",
            f"WeCom throttles this robot ({said}): more than 20 messages a minute",
            WECOM_THROTTLE,
        )
    if errcode == -1:
        return Verdict("retry", f"WeCom is busy ({said})")
    if errcode == 93000:
        return Verdict(
            "failed",
            f"WeCom knows no robot with this key ({said}): check the channel's key, or "
            "whether the robot was removed from the group",
        )
    if errcode in (40008, 40058, 44004):
        return Verdict("failed", f"WeCom refused the message as malformed or too long ({said})")
    return Verdict("failed", f"WeCom refused the message ({said})")


def classify_feishu(code: int, msg: str) -> Verdict:
    """What a Feishu/Lark robot's ``{"code": …, "msg": …}`` means.

    >>> classify_feishu(11232, "frequency limited").kind
    'retry'
    >>> classify_feishu(19021, "sign match fail or timestamp is not within one hour").kind
    'signature'
    >>> classify_feishu(9499, "Bad Request").kind
    'failed'
    """
    said = f"code {code}{_said(msg)}"
    low = msg.lower()
    if code == 0:
        return Verdict("ok", f"Feishu accepted the message ({said})")
    if code == 11232 or (code == 9499 and ("too many" in low or "frequency" in low)):
        return Verdict(
            "retry",
            f"Feishu throttles this robot ({said}): more than 100 messages a minute or 5 a second",
            FEISHU_THROTTLE,
        )
    if code == 19021:
        return Verdict(
            "signature",
            f"Feishu refused the signature ({said}): check that the channel's secret is "
            "the robot's 签名校验 secret and that this machine's clock is right (Feishu "
            "refuses a timestamp more than an hour off)",
        )
    if code == 19022:
        return Verdict(
            "failed",
            f"Feishu refused the message ({said}): this machine's address is not in the "
            "robot's IP whitelist (IP 白名单)",
        )
    if code == 19024:
        return Verdict(
            "failed",
            f"Feishu refused the message ({said}): it holds none of the robot's custom "
            "keywords (自定义关键词)",
        )
    if code == 19001:
        return Verdict(
            "failed",
            f"Feishu knows no robot with this hook id ({said}): check the channel's hook, "
            "or whether the robot was removed from the group",
        )
    if code == 19007:
        return Verdict("failed", f"the robot is not enabled ({said})")
    if code == 9499:
        return Verdict("failed", f"Feishu refused the request as malformed or too big ({said})")
    return Verdict("failed", f"Feishu refused the message ({said})")


# -- settings ---------------------------------------------------------------------------


def _url(value: object, *, where: str) -> SplitResult:
    """A robot's base address; never echoes the value (it may hold a token)."""
    if not isinstance(value, str) or not value:
        raise ChannelConfigError(f"{where}: expected the robot's base address as text")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (urlsplit checks the port only when asked)
    except ValueError:
        raise ChannelConfigError(f"{where}: not a valid address") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelConfigError(f"{where}: expected an http:// or https:// address")
    if parts.username is not None or parts.password is not None:
        raise ChannelConfigError(f"{where}: an address with a user name or password is refused")
    if parts.query or parts.fragment:
        raise ChannelConfigError(
            f"{where}: the address must have no query ('?…'): the robot's token or key is "
            "a secret and goes in its own setting as 'env:NAME' or 'file:PATH'"
        )
    return parts


def _msgtype(value: str) -> Literal["text", "markdown"]:
    return "markdown" if value == "markdown" else "text"


# -- the HTTP connection ------------------------------------------------------------------


class _Transport:
    """One persistent HTTP(S) connection to a robot's host, used by one request at a time."""

    def __init__(self, url: SplitResult, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        import http.client

        conn = self._conn
        if conn is not None and conn.sock is not None and _dropped(conn.sock):
            # the server closed the idle connection (or is gone): start afresh rather
            # than send a message into a dead socket
            conn.close()
        if conn is None:
            host, port = self._url.hostname or "", self._url.port
            if self._url.scheme == "https":
                import ssl

                conn = http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self._timeout)
            self._conn = conn
        return conn

    def post(self, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """POST *body* to *target* (path and query); the status, headers and answer."""
        conn = self._connection()
        try:
            conn.request(
                "POST",
                target,
                body=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            response = conn.getresponse()
            raw = response.read(_MAX_ANSWER)
            if not response.isclosed():  # an answer too long to be a robot's: do not reuse
                conn.close()
        except BaseException:
            conn.close()
            raise
        return response.status, {k.lower(): v for k, v in response.getheaders()}, raw

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _dropped(sock: Any) -> bool:
    """Whether an idle connection has something to read: the peer closed it (or broke it)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


# -- the channels --------------------------------------------------------------------------


class RobotChannel:
    """A group robot as a :class:`dualduty.notify.Channel`. Subclasses say how their
    provider addresses, signs, shapes and answers a message.

    Build one through its channel type (:class:`DingTalkType` and the others) from the
    settings of a district file. It keeps one connection to the robot's host open between
    messages; :meth:`close` (or ``with``) closes it. ``deliver`` may be called from
    several threads: they take turns.
    """

    provider: ClassVar[str]
    """The provider's name in details and logs (``DingTalk``)."""
    type_name: ClassVar[str]
    """The channel type's name (``dingtalk``)."""
    default_url: ClassVar[str]
    credential_setting: ClassVar[str]
    """The setting naming the robot's credential (``token``, ``key``, ``hook``)."""
    credential_what: ClassVar[str]
    """What the credential is, for the message when it is missing."""
    signs: ClassVar[bool]
    """Whether the provider takes a signing ``secret``."""
    code_field: ClassVar[str] = "errcode"
    message_field: ClassVar[str] = "errmsg"
    throttle: ClassVar[float]
    """Seconds to wait after an HTTP 429 without a ``Retry-After``."""
    body_limit: ClassVar[int | None] = None
    """The most bytes the provider takes in a request body, if it has such a limit."""
    RATE_LIMITS: ClassVar[tuple[RateLimit, ...]]
    """The provider's limits on one robot."""
    MAX_BYTES: ClassVar[int]
    """The most bytes of content in one message."""

    name: str
    """The channel's name, as routing rules and outbox messages refer to it."""
    rate_limits: tuple[RateLimit, ...]
    """How many messages the robot takes (the dispatcher's token buckets keep to them)."""
    max_bytes: int
    """The most UTF-8 bytes of content in one message (longer ones are cut)."""

    def __init__(
        self,
        name: str,
        *,
        credential: Secret,
        secret: Secret | None = None,
        url: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
        msgtype: Literal["text", "markdown"] = "text",
        clock: Clock = time.time,
    ) -> None:
        self.name = name
        self.credential = credential
        self.secret = secret
        self.url = self._check_url(_url(url or self.default_url, where="url"), where="url")
        self.timeout = timeout
        self.msgtype = msgtype
        self.rate_limits = self.RATE_LIMITS
        self.max_bytes = self._max_bytes()
        self._clock = clock
        self._transport = _Transport(self.url, timeout)
        self._lock = threading.Lock()
        self._signature_refused: OrderedDict[object, None] = OrderedDict()
        self._signed = ""  # the last signature made: a secret for an hour

    @classmethod
    def from_settings(
        cls, name: str, settings: Mapping[str, Any], *, clock: Clock = time.time
    ) -> RobotChannel:
        """A channel called *name* from the settings of ``[notify.channels.<name>]``.

        :raises ChannelConfigError: listing every setting missing, unknown or wrong and
            every secret that cannot be read, each as ``notify.channels.<name>.<setting>``.
        """
        from dualduty.notify.channels import ChannelSettings

        s = ChannelSettings(name, settings)
        credential = s.secret(
            cls.credential_setting,
            required=True,
            what=f"{cls.credential_what}, as 'env:NAME' or 'file:PATH'",
        )
        secret = s.secret("secret") if cls.signs else None
        url: SplitResult | None = None
        given = s.text("url")  # a problem recorded if it is there but not text
        if given is not None:
            try:
                url = cls._check_url(_url(given, where=s.where("url")), where=s.where("url"))
            except ChannelConfigError as e:
                s.problems.append(str(e))
        elif settings.get("url") is None:
            url = cls._check_url(urlsplit(cls.default_url), where=s.where("url"))
        timeout = s.number("timeout", _DEFAULT_TIMEOUT)
        msgtype = _msgtype(s.choice("msgtype", ("text", "markdown"), "text"))
        s.done()
        # done() raised if either is missing
        assert credential is not None
        assert url is not None
        return cls(
            name,
            credential=credential,
            secret=secret,
            url=url.geturl(),
            timeout=timeout,
            msgtype=msgtype,
            clock=clock,
        )

    @classmethod
    def _check_url(cls, url: SplitResult, *, where: str) -> SplitResult:
        """Provider-specific checks and tidying of the base address."""
        return url

    # -- what subclasses provide

    def _target(self, now: float) -> str:
        """The path and query to post to at time *now* (credential and signature in it)."""
        raise NotImplementedError

    def _payload(self, message: OutboxMessage, now: float, cut: int) -> dict[str, Any]:
        """The JSON body for *message*, its content cut to *cut* bytes."""
        raise NotImplementedError

    def _classify(self, code: int, said: str) -> Verdict:
        raise NotImplementedError

    def _max_bytes(self) -> int:
        """The declared most bytes of content (for the channel's ``msgtype``)."""
        return self.MAX_BYTES

    def _content_limit(self, message: OutboxMessage) -> int:
        """The most bytes of content in the message *message* becomes."""
        return self.max_bytes

    # -- helpers for subclasses

    def _markdown(self, message: OutboxMessage) -> str | None:
        """The Markdown body to send, when this channel sends Markdown and *message* has one."""
        return message.markdown if self.msgtype == "markdown" else None

    @staticmethod
    def _plain(message: OutboxMessage) -> str:
        """The text of a plain message: the title, then the text."""
        return f"{message.title}\n{message.text}" if message.text else message.title

    # -- delivery

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Post *message* once; delivered only when the robot answers code 0."""
        from http.client import HTTPException

        with self._lock:
            now = self._clock()
            data = self._body(message, now)
            try:
                status, headers, raw = self._transport.post(self._target(now), data)
            except TimeoutError:
                result = DeliveryResult.retry(
                    f"{self.provider} did not answer within {self.timeout:g} s"
                )
            except (OSError, HTTPException) as e:
                reason = self._scrub(str(e)) or "no reason given"
                result = DeliveryResult.retry(
                    f"cannot reach {self.provider} at {self._where()}: {type(e).__name__}: {reason}"
                )
            else:
                result = self._result(message, status, headers, raw)
        level = logging.DEBUG if result.delivered else logging.INFO
        _log.log(
            level,
            "%s channel %r: %s (code %s): %s",
            self.type_name,
            self.name,
            "delivered" if result.delivered else "retry" if result.retryable else "failed",
            result.provider_code,
            result.detail,
        )
        return result

    def _body(self, message: OutboxMessage, now: float) -> bytes:
        cut = self._content_limit(message)
        data = _dumps(self._payload(message, now, cut))
        # a body limit (Feishu's 20 KB) counts the JSON around the content and its escapes
        for _ in range(4):
            if self.body_limit is None or len(data) <= self.body_limit:
                break
            cut = max(16, cut - (len(data) - self.body_limit))
            data = _dumps(self._payload(message, now, cut))
        return data

    def _result(
        self, message: OutboxMessage, status: int, headers: Mapping[str, str], raw: bytes
    ) -> DeliveryResult:
        code, said = self._answer(raw)
        provider_code = None if code is None else str(code)
        where = f"HTTP {status} from {self.provider}"
        if status == 429 or status >= 500:
            after = _retry_after(headers)
            if after is None and status == 429:
                after = self.throttle
            return DeliveryResult.retry(
                f"{where}{self._code_text(code, said)}", provider_code, retry_after=after
            )
        if code is None:
            if 200 <= status < 300:
                return DeliveryResult.retry(
                    f"{where}, but not a robot's answer (no {self.code_field}): not delivered"
                )
            return DeliveryResult.failed(f"{where}: check the channel's url")
        if code == 0 and not 200 <= status < 300:
            return DeliveryResult.failed(f"{where}: check the channel's url", provider_code)
        verdict = self._classify(code, said)
        detail = self._scrub(verdict.detail)
        mark: object = message.key if message.key is not None else message
        if verdict.kind == "ok":
            self._signature_refused.pop(mark, None)
            return DeliveryResult.ok(provider_code, detail)
        if verdict.kind == "retry":
            return DeliveryResult.retry(detail, provider_code, retry_after=verdict.retry_after)
        if verdict.kind == "signature":
            if mark in self._signature_refused:
                del self._signature_refused[mark]
                return DeliveryResult.failed(
                    f"{detail}; refused again after one retry: permanent", provider_code
                )
            self._signature_refused[mark] = None
            while len(self._signature_refused) > _SIGNATURE_MEMORY:
                self._signature_refused.popitem(last=False)
            return DeliveryResult.retry(
                f"{detail}; will be retried once, in case the clock was off", provider_code
            )
        return DeliveryResult.failed(detail, provider_code)

    def _answer(self, raw: bytes) -> tuple[int | None, str]:
        """The code and message of a robot's JSON answer (``None`` if it is not one)."""
        try:
            answer = json.loads(raw)
        except ValueError:
            return None, ""
        if not isinstance(answer, dict):
            return None, ""
        code = answer.get(self.code_field)
        said = answer.get(self.message_field)
        if isinstance(code, bool) or not isinstance(code, int):
            return None, ""
        return code, self._scrub(said) if isinstance(said, str) else ""

    def _code_text(self, code: int | None, said: str) -> str:
        return "" if code is None else f" ({self.code_field} {code}{_said(said)})"

    def _secrets(self) -> list[str]:
        values = [self.credential.reveal(), self._signed, unquote_plus(self._signed)]
        if self.secret is not None:
            values.append(self.secret.reveal())
        return [v for v in values if v]

    def _scrub(self, text: str) -> str:
        """*text* with every secret value (and its URL-quoted form) blotted out."""
        for value in self._secrets():
            for form in {value, quote(value, safe="")}:
                text = text.replace(form, "***")
        return text

    def _where(self) -> str:
        """The robot's address without anything secret, for details and logs."""
        url = self.url
        return f"{url.scheme}://{url.netloc}{url.path}"

    # -- lifetime and display

    def close(self) -> None:
        """Close the connection to the robot's host (a later message opens a new one)."""
        with self._lock:
            self._transport.close()

    def __enter__(self) -> RobotChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        secret = "" if self.secret is None else f", secret={self.secret!r}"
        return (
            f"{type(self).__name__}({self.name!r}, url={self._where()!r}, "
            f"{self.credential_setting}={self.credential!r}{secret}, msgtype={self.msgtype!r})"
        )


def _dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class DingTalkChannel(RobotChannel):
    """A DingTalk (钉钉) custom robot (自定义机器人).

    Posts to ``{url}?access_token={token}``, with ``&timestamp={ms}&sign={sign}`` when
    the robot signs (:func:`dualduty_im.signing.dingtalk_sign`). Text messages carry the
    title and the text; Markdown messages (``msgtype = "markdown"``, when the message has
    a Markdown body) the title as the notification's title and the Markdown body. Up to
    20,000 bytes of content; 20 messages a minute.
    """

    provider = "DingTalk"
    type_name = "dingtalk"
    default_url = "https://oapi.dingtalk.com/robot/send"
    credential_setting = "token"
    credential_what = "the access_token of the robot's webhook address"
    signs = True
    throttle = DINGTALK_THROTTLE
    RATE_LIMITS = (RateLimit(20, 60),)
    MAX_BYTES = 20_000

    def _target(self, now: float) -> str:
        query = f"access_token={quote(self.credential.reveal(), safe='')}"
        if self.secret is not None:
            stamp = int(now * 1000)
            self._signed = dingtalk_sign(stamp, self.secret.reveal())
            query += f"&timestamp={stamp}&sign={self._signed}"
        return f"{self.url.path or '/'}?{query}"

    def _payload(self, message: OutboxMessage, now: float, cut: int) -> dict[str, Any]:
        markdown = self._markdown(message)
        if markdown is not None:
            return {
                "msgtype": "markdown",
                "markdown": {"title": message.title, "text": fit_bytes(markdown, cut)},
            }
        return {"msgtype": "text", "text": {"content": fit_bytes(self._plain(message), cut)}}

    def _classify(self, code: int, said: str) -> Verdict:
        return classify_dingtalk(code, said)


class WeComChannel(RobotChannel):
    """A WeCom (企业微信) group robot (群机器人).

    Posts to ``{url}?key={key}``; WeCom robots do not sign. Up to 2,048 bytes of text or
    4,096 bytes of Markdown; 20 messages a minute.
    """

    provider = "WeCom"
    type_name = "wecom"
    default_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    credential_setting = "key"
    credential_what = "the key of the robot's webhook address"
    signs = False
    throttle = WECOM_THROTTLE
    RATE_LIMITS = (RateLimit(20, 60),)
    MAX_BYTES = 2048
    #: The most bytes of a Markdown message's content (text: :attr:`MAX_BYTES`).
    MARKDOWN_BYTES = 4096

    def _max_bytes(self) -> int:
        """2,048 bytes for text, 4,096 for Markdown (``msgtype = "markdown"``)."""
        return self.MARKDOWN_BYTES if self.msgtype == "markdown" else self.MAX_BYTES

    def _content_limit(self, message: OutboxMessage) -> int:
        return self.MARKDOWN_BYTES if self._markdown(message) is not None else self.MAX_BYTES

    def _target(self, now: float) -> str:
        return f"{self.url.path or '/'}?key={quote(self.credential.reveal(), safe='')}"

    def _payload(self, message: OutboxMessage, now: float, cut: int) -> dict[str, Any]:
        markdown = self._markdown(message)
        if markdown is not None:
            return {"msgtype": "markdown", "markdown": {"content": fit_bytes(markdown, cut)}}
        return {"msgtype": "text", "text": {"content": fit_bytes(self._plain(message), cut)}}

    def _classify(self, code: int, said: str) -> Verdict:
        return classify_wecom(code, said)


class FeishuChannel(RobotChannel):
    """A Feishu/Lark (飞书) custom robot (自定义机器人).

    Posts to ``{url}{hook}`` (the base address ends in ``/hook/``; for Lark give
    ``https://open.larksuite.com/open-apis/bot/v2/hook/``), with ``"timestamp"`` and
    ``"sign"`` in the body when the robot signs (:func:`dualduty_im.signing.feishu_sign`).
    Text messages are ``msg_type`` ``text``; Markdown messages a card (``interactive``)
    with the title as its header and the Markdown body in a ``markdown`` element. A
    request body of at most 20,000 bytes; 100 messages a minute and 5 a second.
    """

    provider = "Feishu"
    type_name = "feishu"
    default_url = "https://open.feishu.cn/open-apis/bot/v2/hook/"
    credential_setting = "hook"
    credential_what = "the id at the end of the robot's webhook address"
    signs = True
    code_field = "code"
    message_field = "msg"
    throttle = FEISHU_THROTTLE
    body_limit = 20_000
    RATE_LIMITS = (RateLimit(100, 60), RateLimit(5, 1))
    MAX_BYTES = 20_000

    @classmethod
    def _check_url(cls, url: SplitResult, *, where: str) -> SplitResult:
        path = url.path
        _, hook, rest = path.rpartition("/hook/")
        if hook and rest:
            raise ChannelConfigError(
                f"{where}: give the address up to '/hook/' only: the hook id after it is a "
                "secret and goes in 'hook' as 'env:NAME' or 'file:PATH'"
            )
        if not path.endswith("/"):
            path += "/"
        return url._replace(path=path)

    def _target(self, now: float) -> str:
        return f"{self.url.path}{quote(self.credential.reveal(), safe='')}"

    def _payload(self, message: OutboxMessage, now: float, cut: int) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if self.secret is not None:
            stamp = int(now)
            payload["timestamp"] = str(stamp)
            payload["sign"] = self._signed = feishu_sign(stamp, self.secret.reveal())
        markdown = self._markdown(message)
        if markdown is not None:
            payload["msg_type"] = "interactive"
            payload["card"] = {
                "header": {"title": {"tag": "plain_text", "content": message.title}},
                "elements": [{"tag": "markdown", "content": fit_bytes(markdown, cut)}],
            }
        else:
            payload["msg_type"] = "text"
            payload["content"] = {"text": fit_bytes(self._plain(message), cut)}
        return payload

    def _answer(self, raw: bytes) -> tuple[int | None, str]:
        code, said = super()._answer(raw)
        if code is None:  # the older answer: {"StatusCode": 0, "StatusMessage": "success"}
            try:
                answer = json.loads(raw)
            except ValueError:
                return None, ""
            if isinstance(answer, dict):
                status = answer.get("StatusCode")
                if isinstance(status, int) and not isinstance(status, bool):
                    message = answer.get("StatusMessage")
                    return status, self._scrub(message) if isinstance(message, str) else ""
        return code, said

    def _classify(self, code: int, said: str) -> Verdict:
        return classify_feishu(code, said)


# -- the channel types -------------------------------------------------------------------


class RobotType:
    """A :class:`dualduty.notify.ChannelType` making robot channels of one provider.

    :param clock: the time the channels sign with (default :func:`time.time`).
    """

    name: str
    """The type's name, as ``type = "…"`` gives it."""
    channel: ClassVar[type[RobotChannel]]

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock

    def create(self, name: str, settings: Mapping[str, Any]) -> RobotChannel:
        """A channel called *name* from the settings of ``[notify.channels.<name>]``.

        :raises dualduty.notify.ChannelConfigError: naming the setting that is missing,
            unknown or wrong, or the secret that cannot be read.
        """
        return self.channel.from_settings(name, settings, clock=self._clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DingTalkType(RobotType):
    """``type = "dingtalk"``: settings ``token`` (the ``access_token``, a secret),
    ``secret`` (the 加签 secret, optional), ``url``, ``timeout``, ``msgtype``."""

    name = "dingtalk"
    channel = DingTalkChannel


class WeComType(RobotType):
    """``type = "wecom"``: settings ``key`` (the webhook's ``key``, a secret), ``url``,
    ``timeout``, ``msgtype``."""

    name = "wecom"
    channel = WeComChannel


class FeishuType(RobotType):
    """``type = "feishu"``: settings ``hook`` (the hook id at the end of the webhook
    address, a secret), ``secret`` (the 签名校验 secret, optional), ``url``, ``timeout``,
    ``msgtype``."""

    name = "feishu"
    channel = FeishuChannel
