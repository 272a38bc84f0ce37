"""Hazard domains (安全领域): an open registry of string ids with Chinese and English labels.

The built-in domains cover what the reference plan names; an organisation file can
add its own (``[[hazard_domains]]``), and so will plugins.
"""

from __future__ import annotations

import attrs

from ._checks import check_id, check_text

__all__ = ["BUILTIN_HAZARD_DOMAINS", "HazardDomain"]


@attrs.frozen
class HazardDomain:
    """A kind of risk a duty can answer for, such as fire (消防) or food (食品).

    >>> HazardDomain("fire", "消防安全", "fire safety").name
    '消防安全'
    """

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    """The Chinese label."""
    name_en: str = attrs.field(validator=check_text)
    """The English label."""


def _d(id: str, name: str, name_en: str) -> HazardDomain:
    return HazardDomain(id, name, name_en)


#: The hazard domains dualduty knows without configuration, by id.
BUILTIN_HAZARD_DOMAINS: dict[str, HazardDomain] = {
    d.id: d
    for d in (
        _d("fire", "消防安全", "fire safety"),
        _d("food", "食品安全", "food safety"),
        _d("buildings", "校舍安全", "school buildings"),
        _d("construction", "建筑施工安全", "construction works"),
        _d("traffic", "交通与车辆安全", "traffic and vehicles"),
        _d("lab_chemicals", "实验室与危险化学品安全", "laboratories and hazardous chemicals"),
        _d("network", "信息网络安全", "network and information security"),
        _d("infectious_disease", "传染病与卫生防疫", "infectious disease and hygiene"),
        _d("exams", "考试安全", "examinations"),
        _d("large_activities", "大型活动安全", "large activities and events"),
        _d("finance_assets", "财务与资产安全", "finance and state assets"),
        _d("personnel", "人事与队伍稳定", "personnel and staff stability"),
        _d("petitions", "信访稳定", "petitions and social stability"),
        _d("private_schools", "民办学校安全", "private schools"),
        _d("training_institutions", "校外培训机构安全", "off-campus training institutions"),
        _d("sports", "体育运动安全", "sports"),
        _d("drowning", "防溺水", "drowning prevention"),
        _d("bullying", "校园欺凌防治", "bullying prevention"),
        _d("internships", "学生实习安全", "student internships"),
        _d("public_security", "治安保卫", "public order and security"),
        _d("utilities", "水电安全", "water and electricity"),
        _d("incident_response", "事故应急处置", "incident response"),
        _d("publicity", "宣传与舆情", "publicity and the media"),
        _d("safety_education", "安全教育", "safety education"),
        _d("discipline", "纪律与责任追究", "discipline and accountability"),
    )
}
