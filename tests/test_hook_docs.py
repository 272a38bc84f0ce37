"""Every hook is documented in docs/reference/hooks.md with its exact signature.

The page writes each signature out by hand (``.. autofunction:: name(signature)``), so
a hook whose parameters change, or a new hook without documentation, fails here rather
than leaving the reference wrong. Autodoc alone would always agree with the code.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualduty import hookspecs
from dualduty.plugins import make_plugin_manager

PAGE = Path(__file__).parent.parent / "docs" / "reference" / "hooks.md"
DOCUMENTED = re.compile(
    r"^\.\. autofunction:: dualduty\.hookspecs\.(?P<name>\w+)(?P<signature>.*)$", re.MULTILINE
)
HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if name.startswith("dualduty_") and inspect.isfunction(value)
)
# Types a protocol from the hook signatures passes on (StoreBackend.select returns Rows, …),
# which a plugin author needs as much as the ones named in the signatures.
CONTRACT_TYPES = {"Writer", "Row", "MessageRow", "Query", "HolidayYear", "Term", "DeliveryResult"}
# Names in signatures that are not dualduty's: builtins and collections.abc.
FOREIGN = {"None", "int", "type", "Callable", "Sequence"}


class _Text:
    """An annotation shown as its source text (``from __future__ import annotations``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature_text(func: Callable[..., Any]) -> str:
    """The signature as it is written in the source: ``(request: StoreRequest) -> …``."""
    sig = inspect.signature(func)
    params = [
        p.replace(annotation=_Text(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    ret = sig.return_annotation
    return str(
        sig.replace(
            parameters=params, return_annotation=_Text(ret) if isinstance(ret, str) else ret
        )
    )


def documented() -> dict[str, list[str]]:
    """Hook name -> the signatures the page gives it (one, if documented once)."""
    found: dict[str, list[str]] = {}
    for match in DOCUMENTED.finditer(PAGE.read_text(encoding="utf-8")):
        found.setdefault(match["name"], []).append(match["signature"])
    return found


def test_the_hooks_are_found() -> None:
    # a guard on the discovery above: an empty list would make every check pass
    assert "dualduty_open_store" in HOOKS
    assert sorted(name for name in hookspecs.__all__ if name.startswith("dualduty_")) == HOOKS


def test_every_hook_is_documented_once_and_nothing_else() -> None:
    docs = documented()
    assert sorted(docs) == HOOKS
    for name, signatures in docs.items():
        assert len(signatures) == 1, f"{name} is documented {len(signatures)} times"


@pytest.mark.parametrize("name", HOOKS)
def test_documented_signature_is_exact(name: str) -> None:
    (written,) = documented().get(name, ["(not documented)"])
    assert written == signature_text(getattr(hookspecs, name))


def test_signature_text_is_the_source_text() -> None:
    """The comparison sees what a reader sees: no quotes, defaults and markers kept."""

    def hook(a: int, *, b: str | None = None) -> list[int]:
        return [a]

    hook.__annotations__ = {"a": "int", "b": "str | None", "return": "list[int]"}
    assert signature_text(hook) == "(a: int, *, b: str | None = None) -> list[int]"
    assert signature_text(hookspecs.dualduty_open_store) == (
        "(request: StoreRequest) -> StoreBackend | None"
    )


@pytest.mark.parametrize("name", HOOKS)
def test_docstring_states_firstresult_parameters_and_version(name: str) -> None:
    func = getattr(hookspecs, name)
    opts = make_plugin_manager(entry_points=False).parse_hookspec_opts(hookspecs, name)
    assert opts is not None, f"{name} is not marked with @hookspec"
    doc = inspect.getdoc(func) or ""
    words = " ".join(doc.split())
    if opts["firstresult"]:
        assert "(``firstresult``)" in words
        assert "not ``firstresult``" not in words
    else:
        assert "(not ``firstresult``)" in words
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in words
    if inspect.signature(func).return_annotation != "None":
        assert ":returns:" in words
    assert re.search(r"^\.\. versionadded:: \d+\.\d+$", doc, re.MULTILINE)


def _names(annotation: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(annotation, mode="eval")) if isinstance(n, ast.Name)}


def test_every_type_a_hook_exchanges_is_documented_on_the_page() -> None:
    used: set[str] = set(CONTRACT_TYPES)
    for name in HOOKS:
        sig = inspect.signature(getattr(hookspecs, name))
        for annotation in [sig.return_annotation, *(p.annotation for p in sig.parameters.values())]:
            used |= _names(annotation)
    used -= FOREIGN
    assert {"StoreRequest", "StoreBackend", "Channel", "ScoringContext"} <= used
    page = PAGE.read_text(encoding="utf-8")
    autoclassed = set(re.findall(r"^\.\. autoclass:: dualduty(?:\.\w+)*\.(\w+)$", page, re.M))
    assert used - autoclassed == set()
