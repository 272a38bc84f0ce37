"""The robots' request signatures (加签), as pure functions.

A DingTalk or Feishu robot with signing turned on (安全设置 → 加签 / 签名校验) accepts a
message only with a timestamp within an hour of its own clock and a signature made from
that timestamp and the robot's signing secret. The two providers sign differently:

- DingTalk: HMAC-SHA256 with the secret as the key over ``f"{timestamp_ms}\\n{secret}"``,
  base64, URL-encoded, sent in the URL's query;
- Feishu/Lark: HMAC-SHA256 with ``f"{timestamp_s}\\n{secret}"`` as the key over an empty
  message, base64, sent in the JSON body.

The timestamp is in milliseconds for DingTalk and in seconds for Feishu. WeCom robots
have no signature: the ``key`` in the URL is the only credential.

>>> dingtalk_sign(1700000000002, "SEC0123456789abcdef")
'VGvd0brDJp%2FnMZtR%2BXnA3yBIlhowT%2BTwkRPua0q1%2Fjg%3D'
>>> feishu_sign(1599360473, "demo")
'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8='

The results are secrets too (anyone holding one can post for an hour): never log them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

__all__ = ["dingtalk_sign", "feishu_sign"]


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The ``sign`` query parameter of a DingTalk robot request, already URL-encoded.

    ``urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")))``,
    UTF-8 throughout; sent as ``&timestamp={timestamp_ms}&sign={result}``.

    :param timestamp_ms: milliseconds since the epoch (DingTalk refuses one more than an
        hour away from its clock).
    :param secret: the robot's signing secret (``SEC…``).
    """
    key = secret.encode("utf-8")
    digest = hmac.new(key, f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """The ``sign`` field of a Feishu/Lark robot request body.

    ``base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b""))``, UTF-8; sent in
    the JSON body beside ``"timestamp": "{timestamp_s}"`` (a string).

    :param timestamp_s: seconds since the epoch (Feishu refuses one more than an hour
        away from its clock).
    :param secret: the robot's signing secret.
    """
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")
