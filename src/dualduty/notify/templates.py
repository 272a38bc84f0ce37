"""Message templates: Chinese plain text and Markdown per event kind, with a short title.

Templates are ``string.Template`` texts: ``$field`` or ``${field}`` is replaced by the
event's value, ``$$`` is a dollar sign; nothing else is evaluated. Each event kind
(:data:`dualduty.model.notify.EVENT_KINDS`) has a built-in template (:data:`DEFAULT_TEMPLATES`)
using its fields and the :data:`~dualduty.model.notify.COMMON_FIELDS`; a district file
replaces any part of one, or adds templates a route names, under ``[notify.templates.<id>]``
— every field is checked when the file is loaded.

>>> from dualduty.notify.templates import Templates
>>> fields = {"school_name": "第一中学", "hazard": "hz-00001", "level": "重大",
...           "description": "外墙瓷砖空鼓", "finder": "李明", "found_at": "7月23日16:00",
...           "clause": "三.2"}
>>> Templates().render("major-hazard", fields, max_bytes=60).title
'重大隐患 hz-00001：第一中学'
>>> cut = Templates().render("major-hazard", fields, max_bytes=60).text
>>> cut, len(cut.encode()) <= 60
('第一中学于7月23日16:00发现重大安全隐患：…', True)
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from dualduty.errors import DualdutyError
from dualduty.model.notify import (
    COMMON_FIELDS,
    EVENT_KINDS,
    NotifySettings,
    TemplateText,
)

from . import fit_bytes

__all__ = ["DEFAULT_TEMPLATES", "Rendered", "TemplateError", "Templates", "fields_of", "render"]


class TemplateError(DualdutyError):
    """A template cannot be rendered: it names a field the event did not supply, or no
    template has the id a route names."""


@attrs.frozen
class Rendered:
    """A message rendered from a template."""

    title: str
    text: str
    markdown: str | None = None


def _t(id_: str, title: str, text: str, markdown: str) -> TemplateText:
    return TemplateText(id_, title, text, markdown)


#: The built-in templates, one per event kind (their ids are the kinds').
DEFAULT_TEMPLATES: Mapping[str, TemplateText] = {
    t.id: t
    for t in (
        _t(
            "major-hazard",
            "重大隐患 ${hazard}：${school_name}",
            "${school_name}于${found_at}发现重大安全隐患：${description}（隐患编号 ${hazard}，"
            "发现人 ${finder}）。按实施方案${clause}，重大隐患立即上报领导小组办公室，"
            "并拿出整改措施建议。",
            "### 重大隐患 ${hazard}\n\n"
            "- 学校：${school_name}\n"
            "- 隐患：${description}\n"
            "- 发现：${found_at}，${finder}\n\n"
            "> 按实施方案${clause}，重大隐患立即上报领导小组办公室，并拿出整改措施建议。",
        ),
        _t(
            "hazard-escalated",
            "隐患督办 ${hazard}：${school_name}（${reason}）",
            "${school_name}的${level}隐患“${description}”${reason}，提请${post_title}督办。",
            "### 隐患督办 ${hazard}\n\n"
            "${school_name}的${level}隐患“${description}”**${reason}**，"
            "提请${post_title}督办（第${escalation_level}级）。",
        ),
        _t(
            "incident",
            "${grade}事件 ${incident}：${school_name}${found}",
            "${school_name}于${occurred_at}发生${category}事件：${title}。${figures}，"
            "初定${grade}。（登记人 ${recorder}）初报时限：${initial_due}。",
            "### ${grade}事件 ${incident}：${school_name}${found}\n\n"
            "- 时间：${occurred_at}\n"
            "- 类别：${category}\n"
            "- 事件：${title}\n"
            "- 伤亡损失：${figures}\n"
            "- 登记人：${recorder}\n\n"
            "**初报时限：${initial_due}**",
        ),
        _t(
            "incident-report",
            "事件${stage} ${incident}：${school_name}（${grade}）${raised}",
            "${school_name}“${title}”${stage}：${text}。${figures}。",
            "### 事件${stage} ${incident}：${school_name}（${grade}）${raised}\n\n"
            "${text}\n\n- 伤亡损失：${figures}",
        ),
        _t(
            "incident-grave",
            "${grade}事件 ${incident}：${school_name}${raised}",
            "${school_name}“${title}”（${occurred_at}）${figures}，为${grade}事件${raised}。"
            "按实施方案${clause}，请组织、协调应急救援及善后处置。",
            "### ${grade}事件 ${incident}：${school_name}${raised}\n\n"
            "- 事件：${title}（${occurred_at}）\n"
            "- 伤亡损失：${figures}\n\n"
            "> 按实施方案${clause}，请组织、协调应急救援及善后处置。",
        ),
        _t(
            "report-submitted",
            "季度报告${action}：${title}",
            "${unit_name}${action}${year}年第${quarter}季度学校安全工作书面报告"
            "（${report}，报送人 ${submitter}）。",
            "### 季度报告${action}\n\n"
            "${unit_name}${action}**${year}年第${quarter}季度**学校安全工作书面报告"
            "《${title}》（${report}，报送人 ${submitter}）。",
        ),
        _t(
            "rectification-due",
            "整改到期提醒 ${hazard}：${school_name}",
            "${school_name}的${level}隐患“${description}”整改时限为${time_limit}，"
            "还有${days_left}天。请${responsible_name}按期完成整改并申请复查。",
            "### 整改到期提醒 ${hazard}\n\n"
            "${school_name}的${level}隐患“${description}”整改时限为**${time_limit}**，"
            "还有${days_left}天。\n\n请${responsible_name}按期完成整改并申请复查。",
        ),
        _t(
            "hazard-overdue",
            "隐患逾期 ${hazard}：${school_name}（${missed}）",
            "${school_name}的${level}隐患“${description}”${missed}（${deadline}到期，"
            "已逾期${days_over}天），整改责任人 ${responsible_name}，请督促整改。",
            "### 隐患逾期 ${hazard}：${school_name}\n\n"
            "${level}隐患“${description}”**${missed}**（${deadline}到期，已逾期${days_over}天）。"
            "\n\n整改责任人：${responsible_name}",
        ),
        _t(
            "visit-due",
            "督查提醒：${date} ${school_name}",
            "${date}按计划对${school_name}进行第${quarter}季度专门督查（${manner}，"
            "${holder_name}），督查人员：${inspectors}。",
            "### 督查提醒：${date} ${school_name}\n\n"
            "- 第${quarter}季度专门督查（${manner}）\n"
            "- 分包：${holder_name}\n"
            "- 督查人员：${inspectors}",
        ),
        _t(
            "report-due",
            "季度报告提醒：${unit_name}${year}年第${quarter}季度",
            "${unit_name}${year}年第${quarter}季度学校安全工作书面报告应于${due}前"
            "报领导小组办公室，还有${working_days_left}个工作日。",
            "### 季度报告提醒\n\n"
            "${unit_name}${year}年第${quarter}季度学校安全工作书面报告应于**${due}**前"
            "报领导小组办公室，还有${working_days_left}个工作日。",
        ),
        _t(
            "meeting-due",
            "会议提醒：${date} ${title}",
            "${unit_name}定于${date}召开${meeting_kind}（${title}），请准时参加。",
            "### 会议提醒\n\n"
            "${unit_name}定于**${date}**召开${meeting_kind}（${title}），请准时参加。",
        ),
    )
}


def _format(text: str) -> str:
    """A ``string.Template`` text as a ``str.format_map`` format (rendering is
    then one C call): ``$name`` and ``${name}`` become ``{name}``, ``$$`` a dollar sign,
    literal braces are doubled.

    >>> from dualduty.notify.templates import _format
    >>> _format("${school}{1}$$5：$hazard")
    '{school}{{1}}$5：{hazard}'

    :raises TemplateError: for a ``$`` that starts no field.
    """
    out: list[str] = []
    last = 0
    for m in string.Template.pattern.finditer(text):
        out.append(text[last : m.start()].replace("{", "{{").replace("}", "}}"))
        last = m.end()
        name = m.group("named") or m.group("braced")
        if name is not None:
            out.append("{" + name + "}")
        elif m.group("escaped") is not None:
            out.append("$")
        else:
            raise TemplateError(f"a '$' starts no field at {m.start('invalid')} of {text!r}")
    out.append(text[last:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


class _Compiled:
    __slots__ = ("markdown", "text", "title")

    def __init__(self, t: TemplateText) -> None:
        assert t.title is not None
        assert t.text is not None
        self.title = _format(t.title)
        self.text = _format(t.text)
        self.markdown = None if t.markdown is None else _format(t.markdown)


class Templates:
    """The built-in templates with a district's overrides, compiled once.

    :param overrides: templates replacing parts of built-in ones, or new ones (a
        district file's ``[notify.templates]``); checked when the file was loaded.
    """

    def __init__(self, overrides: Iterable[TemplateText] = ()) -> None:
        merged = dict(DEFAULT_TEMPLATES)
        for t in overrides:
            base = merged.get(t.id)
            if base is None and (t.title is None or t.text is None):
                raise TemplateError(
                    f"notify.templates.{t.id}: a new template needs a title and a text"
                )
            merged[t.id] = (
                t
                if base is None
                else TemplateText(
                    t.id,
                    t.title if t.title is not None else base.title,
                    t.text if t.text is not None else base.text,
                    t.markdown if t.markdown is not None else base.markdown,
                )
            )
        self.texts: Mapping[str, TemplateText] = merged
        self._compiled = {k: _Compiled(v) for k, v in merged.items()}

    @classmethod
    def of(cls, settings: NotifySettings | None) -> Templates:
        """The templates of an organisation's ``[notify]`` settings."""
        return cls(() if settings is None else settings.templates)

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._compiled

    def formats(self, template_id: str) -> tuple[str, str, str | None] | None:
        """The title, text and Markdown of a template as ``str.format_map`` formats
        (``None`` for an unknown template): what :meth:`render` fills in."""
        compiled = self._compiled.get(template_id)
        return None if compiled is None else (compiled.title, compiled.text, compiled.markdown)

    def render(
        self, template_id: str, fields: Mapping[str, Any], *, max_bytes: int | None = None
    ) -> Rendered:
        """Render a template with *fields*; the texts cut to *max_bytes* UTF-8 bytes
        (:func:`~dualduty.notify.fit_bytes`) when given.

        :raises TemplateError: for an unknown template or a field not in *fields*.
        """
        compiled = self._compiled.get(template_id)
        if compiled is None:
            raise TemplateError(f"no template {template_id!r}")
        try:
            title = compiled.title.format_map(fields)
            text = compiled.text.format_map(fields)
            markdown = None if compiled.markdown is None else compiled.markdown.format_map(fields)
        except KeyError as e:
            raise TemplateError(
                f"template {template_id!r} uses the field ${e.args[0]}, which the event "
                "does not supply"
            ) from None
        if max_bytes is not None:
            text = fit_bytes(text, max_bytes)
            markdown = None if markdown is None else fit_bytes(markdown, max_bytes)
        return Rendered(title, text, markdown)


def fields_of(template_id: str) -> tuple[str, ...]:
    """The fields a built-in event kind's template may use (its own and the common ones)."""
    kind = EVENT_KINDS.get(template_id)
    own = () if kind is None else kind.fields
    return (*own, *COMMON_FIELDS)


def render(
    template_id: str,
    fields: Mapping[str, Any],
    *,
    settings: NotifySettings | None = None,
    max_bytes: int | None = None,
) -> Rendered:
    """Render one template (built in, or from *settings*) with *fields*.

    For many messages make one :class:`Templates` and call its :meth:`~Templates.render`.
    """
    return Templates.of(settings).render(template_id, fields, max_bytes=max_bytes)
