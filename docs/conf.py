"""Sphinx configuration of the dualduty documentation.

The build runs offline: no intersphinx inventories are fetched (CI has no network), so
the few references to other projects' types are listed narrowly in ``nitpick_ignore``.

    sphinx-build -n -W --keep-going -b html docs docs/_build/html
    sphinx-build -n -W -b doctest docs docs/_build/doctest
"""

from __future__ import annotations

import ast
import doctest
import enum
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import typing
from pathlib import Path

# The examples show dualduty on its own: plugins installed next to it (the template, the
# OR-Tools solver) are not loaded, so what the examples print does not depend on them.
os.environ["DUALDUTY_LOAD_PLUGINS"] = ""
from typing import Any

import attrs
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.typing import stringify_annotation

import dualduty

# docs/_ext holds this site's own extensions (the traceability table).
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "dualduty"
author = "dualduty developers"
copyright = "dualduty developers"
release = dualduty.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "traceability",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"

# -- MyST ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc -------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"

# -- doctest -------------------------------------------------------------------
# Examples in docstrings are written as if run inside their module, where the model's
# names are in scope (``Rules()``, ``clause_of(...)``); the pages import what they use.
# DOCS_DIR lets a hidden test compare a page with the code or data it describes.
doctest_global_setup = f"""
import pathlib
from dualduty.model import *
from dualduty.reference import *
DOCS_DIR = pathlib.Path({str(Path(__file__).resolve().parent)!r})
"""
# Exception messages are part of what the examples show, so they are compared too
# (Sphinx's default flags include IGNORE_EXCEPTION_DETAIL).
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

# -- nitpicky --------------------------------------------------------------------
# Without intersphinx, types from the standard library and other projects that appear
# in signatures cannot be linked. Each is listed on its own, so that a broken reference
# to dualduty's own API still fails the build.
nitpicky = True
nitpick_ignore = [
    # Standard library types in signatures (no intersphinx: CI has no network).
    ("py:class", "datetime.date"),
    ("py:class", "os.PathLike"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "collections.abc.Callable"),
    ("py:class", "contextlib.AbstractContextManager"),
    ("py:class", "datetime.datetime"),
    # The dispatcher takes a random.Random (its jitter) and a threading.Event (to stop).
    ("py:class", "random.Random"),
    ("py:class", "threading.Event"),
    # The same, as written in signatures autodoc cannot evaluate (they also name types
    # imported only for type checking, so it shows the annotation's text: fold_hazards).
    ("py:class", "dt.datetime"),
    ("py:class", "dt.date"),
    ("py:class", "pathlib.Path"),
    # OrgGraph.to_networkx returns a networkx graph; networkx is not documented here.
    ("py:class", "networkx.MultiDiGraph"),
    # The coverage report's frames are pandas DataFrames (an optional extra).
    ("py:class", "pandas.DataFrame"),
    # The plugin manager functions return pluggy's manager; pluggy is not documented here.
    ("py:class", "pluggy._manager.PluginManager"),
    # Private helpers that appear in public signatures: the context manager
    # Store.transaction() returns, and record_kind's type variable.
    ("py:class", "dualduty.storage.store._TransactionContext"),
    ("py:class", "dualduty.records.base._T"),
    # The union of the organisation's change kinds, as annotations name it (documented
    # in the records reference as dualduty.records.timeline.ChangeData).
    ("py:class", "ChangeData"),
]

# -- HTML ----------------------------------------------------------------------
html_theme = "furo"
html_title = f"dualduty {release}"


# -- public names documented where users import them -----------------------------
# The public classes live in submodules (dualduty.model.org.Organisation) and are
# documented where users import them (dualduty.Organisation). Docstrings refer to them
# by either spelling (:class:`~dualduty.model.Organisation`); this resolves such a
# reference to the documented entry of the same Python object. It never invents a
# target: a reference to something undocumented still fails the build.


def _lookup(parts: list[str]) -> Any:
    """The object a dotted name denotes, or None."""
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


@functools.cache
def _type_checking_imports(module: str) -> dict[str, str]:
    """Names *module* imports only for type checking (``if TYPE_CHECKING:``): name -> path.

    Signatures in such modules name types that are not attributes at run time
    (``StoreBackend`` in ``dualduty.hookspecs``); this is where they come from.
    """
    try:
        mod = importlib.import_module(module)
        tree = ast.parse(inspect.getsource(mod))
    except (ImportError, OSError, TypeError):
        return {}
    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                relative = "." * stmt.level + (stmt.module or "")
                base = importlib.util.resolve_name(relative, mod.__package__ or module)
                for alias in stmt.names:
                    found[alias.asname or alias.name] = f"{base}.{alias.name}"
    return found


def _type_checking_namespace(module: str) -> dict[str, Any]:
    """The objects :func:`_type_checking_imports` names, for evaluating annotations."""
    return {
        name: obj
        for name, path in _type_checking_imports(module).items()
        if (obj := _lookup(path.split("."))) is not None
    }


def _documented(env: BuildEnvironment) -> dict[int, str]:
    """The documented classes and functions, by the id of their Python object."""
    found: dict[int, str] = {}
    for name, entry in env.get_domain("py").objects.items():  # type: ignore[attr-defined]
        if entry.aliased or entry.objtype not in {"class", "exception", "function", "method"}:
            continue
        obj = _lookup(name.split("."))
        if obj is not None:
            found.setdefault(id(obj), name)
    return found


def _resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: Any, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    module: str = node.get("py:module") or ""
    candidates = [target] if target.startswith("dualduty.") else []
    if module.startswith("dualduty"):
        candidates.append(f"{module}.{target}")
        first, _, rest = target.partition(".")
        imported = _type_checking_imports(module).get(first)
        if imported is not None:
            candidates.append(f"{imported}.{rest}" if rest else imported)
    domain = env.get_domain("py")
    documented = _documented(env)
    for name in candidates:
        parts = name.split(".")
        for cut in range(len(parts), 1, -1):
            obj = _lookup(parts[:cut])
            if obj is None or id(obj) not in documented:
                continue
            alias = ".".join([documented[id(obj)], *parts[cut:]])
            if alias != target and alias in domain.objects:  # type: ignore[attr-defined]
                node["reftarget"] = alias
                return domain.resolve_xref(
                    env, node["refdoc"], app.builder, node["reftype"], alias, node, contnode
                )
    return None


# -- signatures of attrs classes -----------------------------------------------------
# attrs writes __init__ with the converters' parameter types (``Any`` for collections)
# and ``NOTHING`` for factory defaults. For dualduty's attrs classes the signature is
# rebuilt from the declared field types with readable defaults; an enum, which is not
# called, gets no signature, and neither does a Protocol, which plugins implement
# rather than instantiate.


def _attrs_signature(  # noqa: PLR0917 -- the signature of Sphinx's event
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    if what == "class" and isinstance(obj, type) and issubclass(obj, enum.Enum):
        return "", None
    if what == "class" and getattr(obj, "_is_protocol", False):
        return "", None
    if what not in {"class", "exception"} or not attrs.has(obj):
        return None
    if not obj.__module__.startswith("dualduty"):
        return None
    hints = typing.get_type_hints(obj, localns=_type_checking_namespace(obj.__module__))
    params = []
    for field in attrs.fields(obj):
        if not field.init:
            continue
        text = f"{field.alias}: {stringify_annotation(hints[field.name], 'smart')}"
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            text += f" = {default.factory.__name__}()"
        elif default is not attrs.NOTHING:
            shown = repr(default)
            if isinstance(default, tuple) and default:
                shown = "(...)"  # a long tuple of defaults is described under its field
            elif isinstance(default, enum.Enum):
                shown = f"{type(default).__name__}.{default.name}"
            text += f" = {shown}"
        params.append(text)
    return f"({', '.join(params)})", return_annotation


def setup(app: Sphinx) -> None:
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-signature", _attrs_signature)
