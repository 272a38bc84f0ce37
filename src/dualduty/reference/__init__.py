"""The reference organisation: the district bureau of the reference plan, ready to use.

The plan (``plan.zh.txt``, shipped with the package) is a district Education & Sports
Bureau's 学校安全稳定工作一岗双责实施方案. :func:`reference_organisation` builds that
bureau: its leading group and office (clause 一), the duties of 二(一) to 二(四), the 23
sections and centres with their 65 numbered safety duties, plus invented people, 分管
(in-charge) edges, schools and school packages (三.1), deterministically.

>>> from dualduty.reference import clause_text, reference_organisation
>>> org = reference_organisation(schools=30)
>>> org.problems()
[]
>>> clause_text("二(四).规划科.2")
'负责全区学校建筑及建筑施工安全的督导、检查工作'
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

import attrs

from dualduty.model import Organisation

from . import _plan, _roster

__all__ = [
    "SECTION_COUNT",
    "SECTION_DUTY_COUNT",
    "clause_text",
    "plan_text",
    "reference_organisation",
]

#: The sections and centres of clause 二(四).
SECTION_COUNT: Final = 23
#: The numbered safety duties of those sections and centres.
SECTION_DUTY_COUNT: Final = 65


def plan_text() -> str:
    """The reference plan, in Chinese, as shipped (its title is the first line).

    >>> plan_text().splitlines()[0]
    '学校安全稳定工作一岗双责实施方案'
    """
    return _plan.plan().text


def clause_text(ref: str) -> str:
    """The plan's text of a clause reference.

    References are written the way :attr:`dualduty.Duty.clause` holds them:

    - ``一``, ``二``, ``三`` and ``二(一)`` .. ``二(四)``: a whole clause, heading included;
    - ``二(一).1`` .. ``二(一).3``, ``二(三).1`` .. ``二(三).4``, ``三.1`` .. ``三.4``: an item;
    - ``二(二).组长``, ``二(二).副组长``, ``二(二).成员``: the duty of a leading-group role;
    - ``二(四).<unit>``: the whole line of a section or centre, such as ``二(四).规划科``;
    - ``二(四).<unit>.<n>``: its n-th numbered duty (``.1`` when it has one unnumbered duty).

    An item is given without its number or label and without the ``；`` or ``。`` that ends
    it, exactly as the reference organisation's duties word it. Full-width brackets
    (``二（四）``) are accepted too.

    >>> clause_text("二(二).成员")
    '负责分包学校和分管科室承担安全稳定工作的督导、检查'

    :raises KeyError: for an unknown reference, saying what would be valid.
    """
    return _plan.plan().text_of(ref)


@cache
def _bureau() -> Organisation:
    """The static bureau of ``bureau.toml`` with its people and 分管 edges (read once)."""
    from dualduty.io import loads

    text = resources.files(__package__).joinpath("bureau.toml").read_text(encoding="utf-8")
    org = loads(text, "toml", source="dualduty/reference/bureau.toml")
    org = _roster.staff(org)
    return attrs.evolve(org, in_charge=_roster.in_charge())


def reference_organisation(schools: int = 120, seed: int = 0) -> Organisation:
    """The bureau of the reference plan, with *schools* synthetic schools.

    The units, posts and duties are the plan's (:func:`clause_text` gives the text of
    every duty's clause). What the plan leaves open is invented, deterministically: the
    people holding the posts and the 分管 grouping are always the same; the schools
    (a realistic mix of levels over twelve townships) and their packages depend on
    *schools* and *seed* only. Every school is in exactly one leading-group package and
    one section package. The result is valid: ``org.problems() == []``.

    :param schools: how many schools the bureau supervises (0 or more).
    :param seed: seeds the school generator; the same arguments give an equal organisation.
    :raises TypeError: if *schools* or *seed* is not an int.
    :raises ValueError: if *schools* is negative.
    """
    for name, value in (("schools", schools), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if schools < 0:
        raise ValueError(f"schools must be 0 or more, got {schools}")
    base = _bureau()
    school_list = _roster.schools(schools, seed)
    return attrs.evolve(base, schools=school_list, packages=_roster.packages(base, school_list))
