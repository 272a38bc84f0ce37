"""The documents' shared writer: one list of blocks, written as Markdown, HTML and Word.

The duty card (:mod:`dualduty.reports.cards`), the responsibility pledge
(:mod:`dualduty.reports.pledges`) and the coordination meeting pack
(:mod:`dualduty.reports.pack`) each describe themselves as a tuple of blocks — headings,
paragraphs, bullet lists, tables and signature lines — and this module writes those
blocks three ways, so that the three renderings carry the same text:

- :func:`markdown`: GitHub-flavoured Markdown, every text escaped so that data prints
  as written (a name holding ``*`` or ``|`` neither emphasises nor splits a table);
- :func:`html`: one HTML document a word processor opens (UTF-8, bordered tables,
  inline styles only, no script), every text escaped;
- :func:`docx`: a Word document (.docx), through python-docx (the optional extra
  ``docx``: ``pip install 'dualduty[docx]'``), imported on first use.

The Word writer is built for printing many documents at once (every cadre's card):
python-docx prepares a slim template once per process (its default document without the
thumbnail, the second style sheet and the styles no block uses; A4 paper, 宋体), and each
document is that template with its body written as one piece of WordprocessingML and
every part stamped with the same time, so the same blocks give the same bytes. Writing
the body directly keeps a 400-row table to milliseconds (python-docx's table API takes
over a second for it).
"""

from __future__ import annotations

import datetime as dt
import html as _html
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import attrs

from dualduty.errors import DualdutyError

__all__ = [
    "Block",
    "Bullets",
    "DocumentError",
    "Heading",
    "MissingDocx",
    "Para",
    "Signatures",
    "Table",
    "date_zh",
    "docx",
    "html",
    "markdown",
    "md_text",
]


class DocumentError(DualdutyError):
    """A document cannot be made from what was given (an unknown person or section, a
    schedule of another year, a quarter out of range)."""


class MissingDocx(DocumentError):
    """Writing Word needs python-docx, which is not installed."""


# -- blocks ------------------------------------------------------------------------------


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def _rows(value: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(c) for c in row) for row in value)


def _pairs(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in value)


def _bools(value: Iterable[bool]) -> tuple[bool, ...]:
    return tuple(bool(v) for v in value)


@attrs.frozen
class Heading:
    """A heading: level 1 is the document's title (centred), 2 a part, 3 a sub-part."""

    level: int = attrs.field(validator=attrs.validators.in_((1, 2, 3)))
    text: str


@attrs.frozen
class Para:
    """A paragraph of text."""

    text: str


@attrs.frozen
class Bullets:
    """A bullet list."""

    items: tuple[str, ...] = attrs.field(converter=_strings)


def _same_width(inst: Table, _a: attrs.Attribute[Any], rows: tuple[tuple[str, ...], ...]) -> None:
    for n, row in enumerate(rows):
        if len(row) != len(inst.header):
            raise ValueError(f"rows[{n}]: {len(row)} cells, the header has {len(inst.header)}")


@attrs.frozen
class Table:
    """A table with a header row; *numeric* marks the columns aligned right."""

    header: tuple[str, ...] = attrs.field(converter=_strings)
    rows: tuple[tuple[str, ...], ...] = attrs.field(converter=_rows, validator=_same_width)
    numeric: tuple[bool, ...] = attrs.field(default=(), converter=_bools)

    def aligned(self, column: int) -> bool:
        """Whether *column* is aligned right."""
        return column < len(self.numeric) and self.numeric[column]


@attrs.frozen
class Signatures:
    """Signature lines: (who signs, their name as printed) for each signatory."""

    lines: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs)


Block = Heading | Para | Bullets | Table | Signatures
"""One block of a document."""

#: What a signature line leaves blank for the pen.
SIGN_HERE = "________________"
#: What a date line leaves blank for the pen.
DATE_HERE = "______年____月____日"


def date_zh(day: dt.date) -> str:
    """A date as ``2026年3月5日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def _signature_text(who: str, name: str) -> str:
    return f"{who}（签字）：{SIGN_HERE}（{name}）　　日期：{DATE_HERE}"


# -- Markdown ------------------------------------------------------------------------------

_MD_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#~&"})
_MD_NUMBER = re.compile(r"^(\d+)([.)])")


def md_text(text: str) -> str:
    """One line of Markdown text: white space collapsed, Markdown's markup characters
    escaped (and a leading ``-``, ``+``, ``=`` or ``1.``), so that data prints as written."""
    text = " ".join(str(text).split()).translate(_MD_ESCAPES)
    if text[:1] in ("-", "+", "="):
        return "\\" + text
    if text[:1].isdigit():
        return _MD_NUMBER.sub(r"\1\\\2", text, count=1)
    return text


def markdown(blocks: Sequence[Block]) -> str:
    """*blocks* as Markdown (GitHub-flavoured tables), ending in one newline."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"{'#' * block.level} {md_text(block.text)}")
        elif isinstance(block, Para):
            out.append(md_text(block.text))
        elif isinstance(block, Bullets):
            out.append("\n".join(f"- {md_text(item)}" for item in block.items))
        elif isinstance(block, Table):
            width = len(block.header)
            lines = [
                "| " + " | ".join(md_text(c) or " " for c in block.header) + " |",
                "|" + "|".join("---:" if block.aligned(i) else "---" for i in range(width)) + "|",
            ]
            lines.extend("| " + " | ".join(md_text(c) for c in row) + " |" for row in block.rows)
            out.append("\n".join(lines))
        else:
            out.append("\n".join(f"- {md_text(_signature_text(w, n))}" for w, n in block.lines))
    return "\n\n".join(out) + "\n"


# -- HTML -------------------------------------------------------------------------------------

_CELL = "border: 1px solid #000; padding: 4px 6px; vertical-align: top;"


def html(blocks: Sequence[Block], title: str) -> str:
    """*blocks* as one HTML document for a word processor: UTF-8, bordered tables, inline
    styles only, no scripts; every text escaped."""
    esc = _html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "</head>",
        "<body style=\"font-family: SimSun, 'Songti SC', serif; font-size: 12pt; "
        'line-height: 1.6;">',
    ]
    for block in blocks:
        if isinstance(block, Heading):
            style = {
                1: "text-align: center; font-size: 18pt;",
                2: "font-size: 14pt;",
                3: "font-size: 12pt;",
            }[block.level]
            out.append(f'<h{block.level} style="{style}">{esc(block.text)}</h{block.level}>')
        elif isinstance(block, Para):
            out.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Bullets):
            out.append("<ul>")
            out.extend(f"<li>{esc(item)}</li>" for item in block.items)
            out.append("</ul>")
        elif isinstance(block, Table):
            out.append(
                '<table border="1" cellspacing="0" cellpadding="4" '
                'style="border-collapse: collapse; width: 100%;">'
            )
            out.append(
                "<tr>"
                + "".join(
                    f'<th style="{_CELL} background: #eee;">{esc(c)}</th>' for c in block.header
                )
                + "</tr>"
            )
            for row in block.rows:
                cells = "".join(
                    f'<td style="{_CELL}{" text-align: right;" if block.aligned(i) else ""}">'
                    f"{esc(c)}</td>"
                    for i, c in enumerate(row)
                )
                out.append(f"<tr>{cells}</tr>")
            out.append("</table>")
        else:
            for who, name in block.lines:
                out.append(f'<p style="margin-top: 24pt;">{esc(_signature_text(who, name))}</p>')
    out.extend(["</body>", "</html>"])
    return "\n".join(out) + "\n"


# -- Word --------------------------------------------------------------------------------------

#: The styles the blocks use (and those they are based on or linked to are kept too).
_STYLES = ("Normal", "Title", "Heading1", "Heading2", "Heading3", "ListBullet", "TableGrid")
#: The body font: 宋体 for Chinese, as bureaus print.
_FONT = "宋体"
#: Every part of the package is stamped with this time, so that the bytes do not depend
#: on the clock (the earliest time a zip file can hold).
_STAMP = (1980, 1, 1, 0, 0, 0)
#: The title's place in the template's document properties, replaced in each document.
_TITLE_MARK = "dualduty-title-placeholder"
#: The width of the text on the page, in twips: A4 (11,906) less the template's margins
#: (1,800 each side).
_TEXT_WIDTH = 11906 - 2 * 1800
_DOCUMENT = "word/document.xml"
_CORE = "docProps/core.xml"
#: Characters XML 1.0 cannot hold (dropped from the text written to Word).
_NOT_XML = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])


@attrs.frozen
class _Template:
    """The slim template as zip parts, its document split where the body's content goes."""

    parts: tuple[tuple[str, bytes], ...]
    head: bytes
    """``word/document.xml`` up to where the content goes (after ``<w:body>``)."""
    tail: bytes
    """From the section properties (``<w:sectPr``) on."""


@cache
def _template() -> _Template:
    """python-docx's default document, slimmed and made ready once per process: no
    thumbnail (a picture of an empty page), no second style sheet, only the styles the
    blocks use, 宋体 as the body font, A4 paper."""
    try:
        import docx as python_docx
    except ImportError:
        raise MissingDocx(
            "writing Word (.docx) needs python-docx: pip install 'dualduty[docx]'"
        ) from None
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from docx.shared import Mm

    document = python_docx.Document()
    package = document.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rid)
    for rid, rel in list(document.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            document.part.rels.pop(rid)
    styles = document.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    # the styles the blocks use, the defaults, and whatever those are based on or link to
    keep: set[str] = set()
    todo = [*_STYLES]
    todo.extend(sid for sid, s in by_id.items() if s.get(qn("w:default")) in ("1", "true", "on"))
    while todo:
        sid = todo.pop()
        keep.add(sid)
        style = by_id.get(sid)
        if style is None:
            continue
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = style.find(qn(tag))
            if ref is not None and (val := ref.get(qn("w:val"))) not in keep:
                todo.append(val)
    for sid, style in by_id.items():
        if sid not in keep:
            styles.remove(style)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    normal = document.styles["Normal"]
    normal.font.name = _FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
    props = document.core_properties
    props.title = _TITLE_MARK
    props.author = "dualduty"
    props.comments = ""
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as package_zip:
        parts = tuple((info.filename, package_zip.read(info)) for info in package_zip.infolist())
    xml = dict(parts)[_DOCUMENT]
    body = xml.index(b"<w:body>") + len(b"<w:body>")
    section_at = xml.index(b"<w:sectPr", body)
    if xml[body:section_at].strip():  # pragma: no cover - python-docx's template is empty
        raise DocumentError("python-docx's default template is not an empty document")
    return _Template(parts, xml[:body], xml[section_at:])


def _x(text: str) -> str:
    """*text* as XML character data (characters XML cannot hold dropped)."""
    return _html.escape(str(text).translate(_NOT_XML), quote=False)


def _para(
    text: str, style: str | None = None, *, align: str | None = None, bold: bool = False
) -> str:
    props = ""
    if style is not None or align is not None:
        props = "<w:pPr>"
        if style is not None:
            props += f'<w:pStyle w:val="{style}"/>'
        if align is not None:
            props += f'<w:jc w:val="{align}"/>'
        props += "</w:pPr>"
    run = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:p>{props}<w:r>{run}<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>'


def _widths(block: Table) -> list[int]:
    """Column widths in twips over the text width, in proportion to each column's longest
    text (from 2 to 30 characters), so that numbers stay narrow and texts get room."""
    weights = [min(max(len(c), 2), 30) for c in block.header]
    for row in block.rows:
        for i, cell in enumerate(row):
            if len(cell) > weights[i]:
                weights[i] = min(len(cell), 30)
    total = sum(weights)
    return [_TEXT_WIDTH * w // total for w in weights]


def _table(block: Table) -> str:
    widths = _widths(block)
    cells = [f'<w:tcW w:w="{w}" w:type="dxa"/>' for w in widths]
    parts = [
        "<w:tbl><w:tblPr>"
        '<w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
        "</w:tblPr><w:tblGrid>"
        + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
        + "</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>"
    ]
    shade = '<w:shd w:val="clear" w:color="auto" w:fill="EEEEEE"/>'
    parts.extend(
        f"<w:tc><w:tcPr>{w}{shade}</w:tcPr>{_para(c, bold=True)}</w:tc>"
        for c, w in zip(block.header, cells, strict=True)
    )
    parts.append("</w:tr>")
    right = [block.aligned(i) for i in range(len(widths))]
    for row in block.rows:
        parts.append("<w:tr>")
        parts.extend(
            f"<w:tc><w:tcPr>{w}</w:tcPr>{_para(c, align='right' if r else None)}</w:tc>"
            for c, w, r in zip(row, cells, right, strict=True)
        )
        parts.append("</w:tr>")
    # Word wants a paragraph after a table (before the next table or the section's end)
    parts.append("</w:tbl><w:p/>")
    return "".join(parts)


def _body(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            if block.level == 1:
                out.append(_para(block.text, "Title", align="center"))
            else:
                out.append(_para(block.text, f"Heading{block.level - 1}"))
        elif isinstance(block, Para):
            out.append(_para(block.text))
        elif isinstance(block, Bullets):
            out.extend(_para(item, "ListBullet") for item in block.items)
        elif isinstance(block, Table):
            out.append(_table(block))
        else:
            for who, name in block.lines:
                out.append("<w:p/>")
                out.append(_para(_signature_text(who, name)))
    return "".join(out)


def docx(blocks: Sequence[Block], title: str) -> bytes:
    """*blocks* as a Word document (.docx), *title* in its properties.

    python-docx makes the template, once per process; each document is that template with
    its body written as WordprocessingML, every part stamped with the same time, so the
    same blocks give the same bytes. python-docx opens the result
    (``docx.Document(path)``), as Word and WPS do.

    :raises MissingDocx: if python-docx is not installed (``pip install 'dualduty[docx]'``).
    """
    template = _template()
    content = template.head + _body(blocks).encode("utf-8") + template.tail
    title_xml = _x(title).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in template.parts:
            if name == _DOCUMENT:
                part = content
            elif name == _CORE:
                part = data.replace(_TITLE_MARK.encode("ascii"), title_xml)
            else:
                part = data
            info = zipfile.ZipInfo(name, _STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, part)
    return out.getvalue()
