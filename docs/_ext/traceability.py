"""The plan's traceability table, generated at build time (``{traceability}`` directive).

Every clause of the reference plan (:func:`dualduty.reference.clause_text` knows them all:
``一`` … ``三.4``, 109 references) is listed with the places that implement it:

- **organisation** — the reference organisation's duties (``Duty.clause``) and units
  (``Unit.clause``), common duties (二(三)) included;
- **rules** — the fields of :class:`dualduty.Rules` with their clause
  (:func:`dualduty.model.clause_of`) and the assessment categories;
- **rubric** — the items and vetoes of :func:`dualduty.scoring.rubric.default_rubric`;
- **code** — the modules of ``src/dualduty`` that cite the clause (docstrings, comments,
  strings), found with :data:`REF` (see :func:`find_refs`);

and the documentation pages that explain it (**docs**). A clause without any implementing
place fails the build (:class:`UntracedClause`), so the table cannot drift from the code.

:func:`collect` does the work without Sphinx; ``tests/test_examples.py`` uses it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dualduty.errors import DualdutyError

__all__ = [
    "KINDS",
    "Place",
    "UntracedClause",
    "clauses",
    "collect",
    "find_refs",
    "parent",
    "source_dir",
    "untraced",
]

#: The kinds of place, in the order the table shows them; all but ``docs`` implement.
#: ``parts`` stands for a whole clause whose every part (sub-clause or item) is
#: implemented, such as 二 (its parts are 二(一) to 二(四)).
KINDS = ("organisation", "rules", "rubric", "code", "parts", "docs")
IMPLEMENTING = frozenset(KINDS) - {"docs"}

_DOCS = Path(__file__).resolve().parent.parent
#: Full-width brackets and dots as the plan writes them; one character each, so that
#: positions (and line numbers) do not move when a text is normalised.
_WIDTH = str.maketrans({"（": "(", "）": ")", "．": "."})


class UntracedClause(DualdutyError):
    """A clause of the plan has no implementing place, or a place cites an unknown clause."""


@dataclass(frozen=True, order=True)
class Place:
    """Where a clause is implemented or explained.

    :param kind: one of :data:`KINDS`.
    :param label: what to show (``duty planning.2``, ``dualduty.records.hazards``).
    :param doc: the docs page (docname) to link to, for ``docs`` places.
    :param lines: the lines of a source file that cite the clause.
    """

    kind: str
    label: str
    doc: str | None = None
    lines: tuple[int, ...] = ()


def clauses() -> list[str]:
    """Every clause reference of the plan, in plan order."""
    from dualduty.reference import _plan

    return list(_plan.plan().clauses)


@cache
def _ref_pattern() -> re.Pattern[str]:
    """A reference to a known clause, in ASCII form, not inside a longer word or reference.

    The alternatives are the plan's own references (longest first), so ``二(四).规划科.2``
    wins over ``二(四).规划科`` and ``二(四)``, and text that merely contains a numeral
    (``一岗双责``, ``第一``) never matches. A bare top-level clause (``一``, ``二``, ``三``)
    is too common a character to find on its own: it counts only after the word
    ``clause``/``clauses`` or ``条款``/``第``…``条`` forms are not used by the code, so
    ``clause 一`` is the one spelling recognised.
    """
    keys = sorted((k for k in clauses() if len(k) > 1), key=len, reverse=True)
    alternatives = "|".join(re.escape(k) for k in keys)
    return re.compile(
        rf"(?<![\w.])(?P<ref>{alternatives})(?![\w(])"
        r"|(?i:\bclauses?\s+)(?P<top>[一二三])(?![\w(.])"
    )


def find_refs(text: str) -> Iterator[tuple[str, int]]:
    """The clause references in *text*, each with its line number (1-based).

    >>> list(find_refs("see clause 一 and 三.2; 二（四）.规划科.1, 一岗双责"))
    [('一', 1), ('三.2', 1), ('二(四).规划科.1', 1)]
    """
    normal = text.translate(_WIDTH)
    for match in _ref_pattern().finditer(normal):
        ref = match["ref"] or match["top"]
        yield ref, normal.count("\n", 0, match.start()) + 1


def _organisation() -> Iterator[tuple[str, Place]]:
    from dualduty.reference import reference_organisation

    org = reference_organisation(schools=0)
    for unit in org.units:
        if unit.clause:
            yield unit.clause, Place("organisation", f"unit {unit.id} ({unit.name})")
        for duty in unit.duties:
            yield duty.clause, Place("organisation", f"duty {duty.id} ({unit.name})")
    for duty in org.common_duties:
        yield duty.clause, Place("organisation", f"common duty {duty.id}")


def _rules() -> Iterator[tuple[str, Place]]:
    import attrs

    from dualduty.model import Rules, clause_of

    rules = Rules()
    for field in attrs.fields(Rules):
        if "clause" in field.metadata:
            yield clause_of(field.name), Place("rules", f"Rules.{field.name}")
    for category in rules.assessment_categories:
        yield category.clause, Place("rules", f"assessment category {category.id}")


def _rubric() -> Iterator[tuple[str, Place]]:
    from dualduty.scoring.rubric import default_rubric

    rubric = default_rubric()
    for item in rubric.items:
        yield item.clause, Place("rubric", f"item {item.id}")
    for veto in rubric.vetoes:
        yield veto.clause, Place("rubric", f"veto {veto.id}")


def _files(root: Path, suffix: str, skip: Iterable[str] = ()) -> Iterator[tuple[Path, str]]:
    skipped = tuple(skip)
    for path in sorted(root.rglob(f"*{suffix}")):
        rel = path.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(f"{s}/") for s in skipped):
            continue
        yield path, path.read_text(encoding="utf-8")


def _cited(kind: str, label: str, text: str, doc: str | None = None) -> Iterator[tuple[str, Place]]:
    lines: dict[str, list[int]] = {}
    for ref, line in find_refs(text):
        lines.setdefault(ref, []).append(line)
    for ref, found in lines.items():
        yield ref, Place(kind, label, doc, tuple(dict.fromkeys(found)))


def _code(src: Path) -> Iterator[tuple[str, Place]]:
    for path, text in _files(src, ".py"):
        parts = path.relative_to(src.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield from _cited("code", module, text)


def _docs(docs: Path, skip: Iterable[str]) -> Iterator[tuple[str, Place]]:
    for path, text in _files(docs, ".md", skip=["_build", *skip]):
        docname = path.relative_to(docs).with_suffix("").as_posix()
        yield from _cited("docs", docname, text, doc=docname)


def source_dir() -> Path:
    """The folder of the ``dualduty`` package imported (``src/dualduty`` in a checkout)."""
    import dualduty

    return Path(dualduty.__file__).resolve().parent


def collect(
    src: Path | None = None, docs: Path | None = _DOCS, skip_docs: Iterable[str] = ()
) -> dict[str, list[Place]]:
    """Every clause of the plan with its places, in plan order (each list sorted by kind).

    :param src: the ``dualduty`` package's source folder, scanned for clause references
        (default: :func:`source_dir`).
    :param docs: the docs folder, scanned for pages citing clauses (``None``: no docs).
    :param skip_docs: docs files or folders (relative paths) to leave out.
    """
    table: dict[str, set[Place]] = {ref: set() for ref in clauses()}
    sources: list[Iterable[tuple[str, Place]]] = [_organisation(), _rules(), _rubric()]
    sources.append(_code(src or source_dir()))
    if docs is not None:
        sources.append(_docs(docs, skip_docs))
    for source in sources:
        for ref, place in source:
            if ref not in table:
                raise UntracedClause(f"{place.kind} {place.label} cites unknown clause {ref!r}")
            table[ref].add(place)
    _add_parts(table)
    order = {kind: n for n, kind in enumerate(KINDS)}
    return {
        ref: sorted(places, key=lambda p: (order[p.kind], p.label)) for ref, places in table.items()
    }


def parent(ref: str) -> str | None:
    """The clause *ref* is a part of (``二(四).规划科.1`` → ``二(四).规划科`` → ``二(四)`` →
    ``二``), or ``None`` for a top-level clause."""
    if "." in ref:
        return ref.rsplit(".", 1)[0]
    if "(" in ref:
        return ref.split("(", 1)[0]
    return None


def _add_parts(table: dict[str, set[Place]]) -> None:
    """Give a whole clause a ``parts`` place when each of its parts is implemented."""
    children: dict[str, list[str]] = {}
    for ref in table:
        up = parent(ref)
        if up is not None:
            children.setdefault(up, []).append(ref)
    # Deepest first, so that a unit's line is settled before 二(四), and 二(四) before 二.
    for ref in sorted(children, key=lambda r: r.count(".") + r.count("("), reverse=True):
        parts = children[ref]
        if all({p.kind for p in table[c]} & IMPLEMENTING for c in parts):
            label = parts[0] if len(parts) == 1 else f"{parts[0]} … {parts[-1]} ({len(parts)})"
            table[ref].add(Place("parts", label))


def untraced(table: dict[str, list[Place]]) -> list[str]:
    """The clauses of *table* without an implementing place (docs pages do not count)."""
    return [ref for ref, places in table.items() if not {p.kind for p in places} & IMPLEMENTING]


# -- Sphinx ----------------------------------------------------------------------------


def _summary(ref: str, width: int = 36) -> str:
    from dualduty.reference import clause_text

    text = " ".join(clause_text(ref).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(table: dict[str, list[Place]], here: str) -> Any:
    from docutils import nodes  # type: ignore[import-untyped]  # docutils ships no types
    from sphinx import addnodes

    headers = ("Clause", "Plan text", "Implemented in", "Explained in")
    widths = (12, 28, 40, 20)
    tgroup = nodes.tgroup(cols=len(headers))
    for width in widths:
        tgroup += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for title in headers:
        row += nodes.entry("", nodes.paragraph(text=title))
    head += row
    tgroup += head
    body = nodes.tbody()
    for ref, places in table.items():
        row = nodes.row(ids=[nodes.make_id(f"clause-{ref}")])
        row += nodes.entry("", nodes.paragraph("", "", nodes.literal(text=ref)))
        row += nodes.entry("", nodes.paragraph(text=_summary(ref)))
        implementing = nodes.entry()
        for kind in KINDS[:-1]:
            labels = [p.label for p in places if p.kind == kind]
            if labels:
                para = nodes.paragraph()
                para += nodes.strong(text=f"{kind}: ")
                for n, label in enumerate(labels):
                    if n:
                        para += nodes.Text(", ")
                    para += nodes.literal(text=label)
                implementing += para
        row += implementing
        docs = nodes.paragraph()
        for n, place in enumerate(p for p in places if p.kind == "docs" and p.doc != here):
            if n:
                docs += nodes.Text(", ")
            xref = addnodes.pending_xref(
                "", refdomain="std", reftype="doc", reftarget=f"/{place.doc}", refexplicit=False
            )
            xref += nodes.inline(text=place.doc)
            docs += xref
        row += nodes.entry("", docs)
        body += row
    tgroup += body
    return nodes.table("", tgroup, classes=["traceability"])


def setup(app: Any) -> dict[str, Any]:
    """Register the ``traceability`` directive."""
    from sphinx.errors import ExtensionError
    from sphinx.util.docutils import SphinxDirective

    class Traceability(SphinxDirective):
        """``{traceability}``: the table of every clause and its places."""

        has_content = False

        def run(self) -> list[Any]:
            docs = Path(self.env.srcdir)
            here = self.env.docname
            src = source_dir()
            table = collect(src, docs, skip_docs=[f"{here}.md"])
            missing = untraced(table)
            if missing:
                raise ExtensionError(
                    "traceability: no implementing place (organisation, rules, rubric or "
                    f"code under {src}) for clause(s) {', '.join(missing)}"
                )
            for path in (*src.rglob("*.py"), *docs.rglob("*.md")):
                if "_build" not in path.parts:
                    self.env.note_dependency(str(path))
            return [_table(table, here)]

    app.add_directive("traceability", Traceability)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
