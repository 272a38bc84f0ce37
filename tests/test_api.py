"""The public API: every ``__all__`` is complete and resolves; importing stays light."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import dualduty

SRC = Path(dualduty.__file__).parent
PUBLIC_MODULES = [
    "dualduty",
    "dualduty.errors",
    "dualduty.graph",
    "dualduty.io",
    "dualduty.model",
    "dualduty.reference",
    "dualduty.cli",
]


def test_lazy_names_match_all() -> None:
    """Every name under ``if TYPE_CHECKING`` in __init__ is in __all__ and vice versa."""
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    )
    names = {
        alias.asname or alias.name
        for node in guarded.body
        if isinstance(node, ast.ImportFrom) and node.module != "typing"
        for alias in node.names
    }
    assert names == set(dualduty.__all__) - {"__version__"}


@pytest.mark.parametrize("name", dualduty.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(dualduty, name) is not None


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_complete(module_name: str) -> None:
    """Every public class or function a module defines is listed in its __all__."""
    module = importlib.import_module(module_name)
    listed = set(module.__all__)
    for name in listed:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name!r}"
    if module_name == "dualduty":
        return  # checked against the lazy imports above
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith(module_name)
    }
    assert defined <= listed, f"{module_name}: public but not in __all__: {defined - listed}"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dualduty.nope  # noqa: B018 -- the access is the test


def test_import_is_light() -> None:
    code = (
        "import sys, dualduty\n"
        "heavy = ['networkx', 'cattrs', 'attrs', 'pendulum', 'dualduty.model', 'typing']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_is_shipped() -> None:
    assert (SRC / "py.typed").is_file()


def test_readme_test_command_is_what_ci_runs() -> None:
    root = SRC.parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:]]
    assert len(blocks) == 2, "README keeps exactly two set-up commands"
    install_and_run, test_command = blocks
    assert "dualduty" in install_and_run
    assert test_command in ci.splitlines()


def test_readme_example_prints_what_the_readme_says(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (SRC.parent.parent / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    shown = readme.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    exec(compile(code, "README.md", "exec"), {})  # our own README's example
    printed = capsys.readouterr().out.splitlines()
    assert shown
    assert set(shown) <= set(printed)
