"""The signatures against fixed vectors.

The expected strings were computed apart from Python, with OpenSSL::

    printf '%s\n%s' 1700000000002 SEC0123456789abcdef \
      | openssl dgst -sha256 -hmac SEC0123456789abcdef -binary | base64
    printf '' | openssl dgst -sha256 -mac HMAC \
      -macopt hexkey:$(printf '%s\n%s' 1599360473 demo | xxd -p | tr -d '\n') -binary | base64

and each test also writes the HMAC steps out, so a change of either side shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

import pytest
from dualduty_im.signing import dingtalk_sign, feishu_sign

# (timestamp in ms, secret, base64 of the HMAC, the URL-encoded sign)
DINGTALK_VECTORS = [
    (
        1700000000002,
        "SEC0123456789abcdef",
        "VGvd0brDJp/nMZtR+XnA3yBIlhowT+TwkRPua0q1/jg=",
        "VGvd0brDJp%2FnMZtR%2BXnA3yBIlhowT%2BTwkRPua0q1%2Fjg%3D",
    ),
    (
        1700000000000,
        "SEC0123456789abcdef",
        "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=",
        "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D",
    ),
    (  # a secret with Chinese characters: UTF-8 on both sides
        1715000000123,
        "SEC钉钉秘钥",
        "2yG5MNuyK2KdVWusNCz3IpuafPsJFGbF3ZEFgPMoqwk=",
        "2yG5MNuyK2KdVWusNCz3IpuafPsJFGbF3ZEFgPMoqwk%3D",
    ),
]

# (timestamp in s, secret, sign)
FEISHU_VECTORS = [
    (1599360473, "demo", "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="),
    (1700000000, "SECtest-feishu", "IUwJxvv58XpWTz2plAJZ9LGwumG7wT+DLqpWUAg8sG8="),
]


@pytest.mark.parametrize(("stamp", "secret", "b64", "quoted"), DINGTALK_VECTORS)
def test_dingtalk_vectors(stamp: int, secret: str, b64: str, quoted: str) -> None:
    assert dingtalk_sign(stamp, secret) == quoted
    assert unquote_plus(quoted) == b64


@pytest.mark.parametrize(("stamp", "secret", "b64", "quoted"), DINGTALK_VECTORS)
def test_dingtalk_steps(stamp: int, secret: str, b64: str, quoted: str) -> None:
    """string_to_sign = "{timestamp}\\n{secret}"; key = secret; base64; URL-encode."""
    string_to_sign = str(stamp) + "\n" + secret
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    assert base64.b64encode(mac.digest()).decode() == b64
    encoded = b64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert dingtalk_sign(stamp, secret) == encoded


@pytest.mark.parametrize(("stamp", "secret", "sign"), FEISHU_VECTORS)
def test_feishu_vectors(stamp: int, secret: str, sign: str) -> None:
    assert feishu_sign(stamp, secret) == sign


@pytest.mark.parametrize(("stamp", "secret", "sign"), FEISHU_VECTORS)
def test_feishu_steps(stamp: int, secret: str, sign: str) -> None:
    """key = "{timestamp}\\n{secret}"; message empty; base64; no URL-encoding."""
    key = (str(stamp) + "\n" + secret).encode("utf-8")
    assert base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode() == sign
    assert feishu_sign(stamp, secret) == sign


def test_the_two_recipes_differ() -> None:
    """DingTalk keys with the secret over the string; Feishu keys with the string over
    nothing: the same inputs give different signatures (a mix-up is caught)."""
    stamp, secret = 1700000000, "SEC0123456789abcdef"
    assert unquote_plus(dingtalk_sign(stamp, secret)) != feishu_sign(stamp, secret)
