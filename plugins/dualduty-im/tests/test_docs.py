"""The how-to guide's table of answer codes says what the channels do.

docs/how-to/send-to-im-groups.md lists each provider's codes with the result a channel
reports; every row is checked against the classification the channels use.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dualduty_im.channels import Verdict, classify_dingtalk, classify_feishu, classify_wecom

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "how-to" / "send-to-im-groups.md"
CLASSIFY = {"DingTalk": classify_dingtalk, "WeCom": classify_wecom, "Feishu": classify_feishu}
ROW = re.compile(r"^\| (DingTalk|WeCom|Feishu) \| `(-?\d+)` \| ([^|]+) \| ([^|]+) \|")


def rows() -> list[tuple[str, int, str, str]]:
    if not GUIDE.exists():  # the plugin tested outside dualduty's repository
        pytest.skip(f"{GUIDE} is not here")
    found = []
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            provider, code, says, result = match.groups()
            found.append((provider, int(code), says.strip(), result.strip()))
    return found


def expected(result: str) -> tuple[str, float | None]:
    """The verdict kind and wait a row's result column says."""
    if result == "delivered":
        return "ok", None
    if result == "failed":
        return "failed", None
    if result == "retry once, then failed":
        return "signature", None
    if result == "retry":
        return "retry", None
    match = re.fullmatch(r"retry, after (\d+) s", result)
    assert match, f"a result the test does not know: {result!r}"
    return "retry", float(match.group(1))


def test_the_guide_has_every_provider() -> None:
    found = rows()
    assert {p for p, *_ in found} == set(CLASSIFY)
    assert len(found) >= 25


def test_every_row_is_what_the_channel_does() -> None:
    for provider, code, says, result in rows():
        verdict: Verdict = CLASSIFY[provider](code, says)
        assert (verdict.kind, verdict.retry_after) == expected(result), (provider, code, says)
