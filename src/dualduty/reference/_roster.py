"""The invented part of the reference organisation: people, 分管, schools and packages.

The plan fixes the units and their duties (``bureau.toml``); it names no people, does
not say which deputy is in charge of which section, and lists no schools. This module
makes them up, deterministically:

- :func:`staff` gives every post a person. The people are the same whatever the
  number of schools or the seed, so the leadership of the reference bureau is stable.
- :data:`IN_CHARGE` is the invented 分管 grouping: each section or centre is in the
  charge of exactly one deputy or member; the leader is in charge of none.
- :func:`schools` makes a realistic mix of schools over twelve invented townships,
  from a :class:`random.Random` seeded with the caller's seed (no global state).
- :func:`packages` gives every school exactly one leading-group package holder and
  exactly one section package holder, balanced by count and clustered by township.

Everything here is linear in the number of schools.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Final, cast

import attrs

from dualduty.model import (
    Facility,
    InCharge,
    Organisation,
    Ownership,
    Package,
    Person,
    RiskLevel,
    Role,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
)

__all__ = [
    "IN_CHARGE",
    "LEVEL_SHARES",
    "TOWNSHIPS",
    "chinese_number",
    "in_charge",
    "packages",
    "schools",
    "staff",
]

# -- people ---------------------------------------------------------------------------

#: The seed of the people generator: fixed, so the same people hold the same posts in
#: every reference organisation.
PEOPLE_SEED: Final = 20240901

_SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
_GIVEN: Final = (
    "建国", "建华", "国强", "志强", "秀英", "桂英", "丽华", "海燕", "红梅", "晓东",
    "立新", "卫东", "文华", "志刚", "玉兰", "春梅", "海涛", "建军", "晓燕", "永红",
    "宏伟", "新华", "淑珍", "德胜", "振华", "文静", "晓明", "雪梅", "爱华", "俊杰",
    "志勇", "明", "伟", "芳", "敏", "静", "磊", "洋", "勇", "艳",
    "杰", "娟", "涛", "军", "霞", "平", "刚", "丽", "强", "斌",
    "波", "辉", "红", "鹏", "丹", "颖", "亮", "琳", "超", "婷",
)  # fmt: skip


def _names(count: int, rng: random.Random) -> list[str]:
    """*count* distinct plausible Chinese names."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def staff(org: Organisation) -> Organisation:
    """*org* with one person per post (ids ``p001``, … in post order) as its holder."""
    posts = [post for _unit, post in org.iter_posts()]
    names = _names(len(posts), random.Random(PEOPLE_SEED))
    width = max(3, len(str(len(posts))))
    people = [Person(f"p{i:0{width}d}", name) for i, name in enumerate(names, 1)]
    holder = {post.id: person.id for post, person in zip(posts, people, strict=True)}
    units = [
        attrs.evolve(unit, posts=[attrs.evolve(p, holder=holder[p.id]) for p in unit.posts])
        for unit in org.units
    ]
    return attrs.evolve(org, people=people, units=units)


# -- 分管 (invented: the plan does not say who is in charge of what) ---------------------

#: The invented 分管 grouping: leading-group post -> the sections and centres it is in
#: charge of, grouped by line of business. Deputies carry more than members; the leader
#: (局长, 组长) leads everything and is in charge of no section in particular.
IN_CHARGE: Final[dict[str, tuple[str, ...]]] = {
    # 副局长, basic education: schools' daily work, students, exams and laboratories.
    "deputy-1": (
        "basic-education",
        "moral-education",
        "private-education",
        "teaching-research",
        "admissions",
        "equipment-station",
        "youth-centre",
    ),
    # 副局长, teachers, vocational and adult education, sports.
    "deputy-2": (
        "personnel",
        "teacher-training",
        "vocational-adult",
        "open-university-station",
        "work-study",
        "sports",
    ),
    # 常务副局长 (executive deputy): safety, the general office, buildings, money, logistics.
    "deputy-3": (
        "regulation-safety",
        "general-office",
        "planning",
        "finance",
        "logistics-centre",
        "student-aid-centre",
    ),
    # 纪检组长: discipline, petitions and audit.
    "discipline-chief": ("discipline-petitions", "audit"),
    # 总督学: education inspection and retired cadres.
    "chief-inspector": ("inspectorate", "retired-cadres"),
}


def in_charge() -> list[InCharge]:
    """The 分管 edges of :data:`IN_CHARGE`."""
    return [InCharge(post, units) for post, units in IN_CHARGE.items()]


# -- schools ----------------------------------------------------------------------------

#: The invented townships (乡镇 / 街道): name, weight (how many schools it has), urban.
TOWNSHIPS: Final[tuple[tuple[str, int, bool], ...]] = (
    ("城关镇", 6, True),
    ("东城街道", 4, True),
    ("西城街道", 4, True),
    ("南关街道", 3, True),
    ("河口镇", 2, False),
    ("新集镇", 2, False),
    ("白沙镇", 2, False),
    ("桥头镇", 2, False),
    ("石桥镇", 2, False),
    ("柳林乡", 1, False),
    ("青山乡", 1, False),
    ("马坊镇", 1, False),
)

#: The share of each school level, in percent (normalised over their sum).
LEVEL_SHARES: Final[dict[SchoolLevel, int]] = {
    SchoolLevel.KINDERGARTEN: 30,
    SchoolLevel.PRIMARY: 35,
    SchoolLevel.JUNIOR: 12,
    SchoolLevel.NINE_YEAR: 6,
    SchoolLevel.SENIOR: 4,
    SchoolLevel.VOCATIONAL: 3,
    SchoolLevel.SPECIAL: 1,
    SchoolLevel.TRAINING: 6,
    SchoolLevel.ADULT: 1,
}

_L = SchoolLevel
#: Levels that sit mostly in the town: rural townships get a tenth of their weight.
_URBAN_LEVELS: Final = frozenset({_L.SENIOR, _L.VOCATIONAL, _L.SPECIAL, _L.TRAINING})
#: Levels that every township has about equally of.
_EVEN_LEVELS: Final = frozenset({_L.ADULT})
_LAB_LEVELS: Final = frozenset({_L.JUNIOR, _L.SENIOR, _L.NINE_YEAR, _L.VOCATIONAL})

#: Share of private schools by level.
_PRIVATE: Final[dict[SchoolLevel, float]] = {
    _L.KINDERGARTEN: 0.55,
    _L.PRIMARY: 0.05,
    _L.JUNIOR: 0.08,
    _L.NINE_YEAR: 0.15,
    _L.SENIOR: 0.15,
    _L.VOCATIONAL: 0.2,
    _L.SPECIAL: 0.0,
    _L.TRAINING: 0.9,
    _L.ADULT: 0.0,
}

#: Students by level: the range in a rural township (a town's schools are larger).
_STUDENTS: Final[dict[SchoolLevel, tuple[int, int]]] = {
    _L.KINDERGARTEN: (40, 320),
    _L.PRIMARY: (60, 1800),
    _L.JUNIOR: (250, 1800),
    _L.NINE_YEAR: (300, 1600),
    _L.SENIOR: (900, 3200),
    _L.VOCATIONAL: (400, 2400),
    _L.SPECIAL: (30, 160),
    _L.TRAINING: (20, 450),
    _L.ADULT: (40, 500),
}

#: Probability of each facility by level, in a town and in a rural township.
_FACILITIES: Final[dict[Facility, dict[SchoolLevel, tuple[float, float]]]] = {
    Facility.CANTEEN: {
        _L.KINDERGARTEN: (0.8, 0.6),
        _L.PRIMARY: (0.5, 0.75),
        _L.JUNIOR: (0.95, 0.95),
        _L.NINE_YEAR: (0.95, 0.95),
        _L.SENIOR: (1.0, 1.0),
        _L.VOCATIONAL: (1.0, 1.0),
        _L.SPECIAL: (1.0, 1.0),
        _L.TRAINING: (0.05, 0.05),
        _L.ADULT: (0.1, 0.1),
    },
    Facility.BOARDING: {
        _L.PRIMARY: (0.02, 0.2),
        _L.JUNIOR: (0.3, 0.7),
        _L.NINE_YEAR: (0.4, 0.7),
        _L.SENIOR: (0.85, 0.85),
        _L.VOCATIONAL: (0.8, 0.8),
        _L.SPECIAL: (0.6, 0.6),
    },
    Facility.SCHOOL_BUS: {
        _L.KINDERGARTEN: (0.15, 0.3),
        _L.PRIMARY: (0.05, 0.25),
        _L.JUNIOR: (0.05, 0.15),
        _L.NINE_YEAR: (0.1, 0.3),
        _L.SPECIAL: (0.5, 0.5),
    },
    Facility.SWIMMING_POOL: {
        _L.SENIOR: (0.1, 0.0),
        _L.VOCATIONAL: (0.1, 0.0),
        _L.TRAINING: (0.03, 0.0),
    },
}
_CONSTRUCTION: Final = 0.06
_NEAR_WATER: Final = (0.05, 0.15)  # town, rural

_KINDERGARTEN_BRANDS: Final = (
    "阳光", "小太阳", "金太阳", "蓝天", "童心", "启明星", "小天使", "七彩虹", "贝贝", "爱心",
    "育苗", "新蕾", "博雅", "童梦", "快乐宝贝", "小博士", "春苗", "晨曦", "彩虹桥", "星星",
)  # fmt: skip
_SCHOOL_BRANDS: Final = (
    "育才", "英才", "博文", "明德", "育英", "华英", "启明", "致远", "弘毅", "树人", "崇文", "求实",
)  # fmt: skip
_TRAINING_BRANDS: Final = (
    "博学", "启航", "智慧树", "书香", "卓越", "优学", "思源", "翰林", "未来星", "乐学",
    "新起点", "金钥匙", "领航", "文心", "墨香", "知行",
)  # fmt: skip

_DIGITS: Final = "零一二三四五六七八九"


@cache
def chinese_number(n: int) -> str:
    """*n* (1 or more) in Chinese numerals, as in school names: 1 一, 12 十二, 105 一百零五."""
    if n < 1:
        raise ValueError(f"expected a number >= 1, got {n}")
    if n < 10000:
        return _below_10000(n, leading=True)
    high, low = divmod(n, 10000)
    rest = "" if low == 0 else ("零" if low < 1000 else "") + _below_10000(low, leading=False)
    return chinese_number(high) + "万" + rest


def _below_10000(n: int, *, leading: bool) -> str:
    if leading and 10 <= n < 20:  # 十二, but 一百一十二 and 一万零一十二
        return "十" + (_DIGITS[n - 10] if n > 10 else "")
    out: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
        else:
            if zero:
                out.append("零")
                zero = False
            out.append(_DIGITS[digit] + unit)
    return "".join(out)


def _quotas(total: int) -> list[tuple[SchoolLevel, int]]:
    """How many schools of each level: shares by largest remainder (ties in list order)."""
    weight = sum(LEVEL_SHARES.values())
    exact = [(level, total * share / weight) for level, share in LEVEL_SHARES.items()]
    counts = {level: int(x) for level, x in exact}
    left = total - sum(counts.values())
    by_remainder = sorted(range(len(exact)), key=lambda i: -(exact[i][1] - int(exact[i][1])))
    for i in by_remainder[:left]:
        counts[exact[i][0]] += 1
    return [(level, counts[level]) for level in LEVEL_SHARES]


_PRIVATE_SUFFIX: Final[dict[SchoolLevel, str]] = {
    _L.PRIMARY: "小学",
    _L.JUNIOR: "中学",
    _L.NINE_YEAR: "实验学校",
    _L.SENIOR: "高级中学",
    _L.VOCATIONAL: "职业学校",
}


class _Namer:
    """Unique school names: preferred names first, then numbered ones (第一…, 第二…)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next: dict[tuple[str, str], int] = {}

    def claim(self, preferred: Iterable[str], stem: str, suffix: str, first: int = 1) -> str:
        """The first free preferred name, else ``<stem>第<k><suffix>`` from k = *first*."""
        for name in preferred:
            if name not in self.used:
                self.used.add(name)
                return name
        k = self.next.get((stem, suffix), first)
        while True:
            name = f"{stem}第{chinese_number(k)}{suffix}"
            k += 1
            if name not in self.used:
                self.next[stem, suffix] = k
                self.used.add(name)
                return name

    def name(self, level: SchoolLevel, private: bool, town: str, rng: random.Random) -> str:
        if level is _L.KINDERGARTEN:
            if private:
                brand = rng.choice(_KINDERGARTEN_BRANDS)
                return self.claim(
                    (f"{brand}幼儿园", f"{town}{brand}幼儿园"), f"{town}{brand}", "幼儿园", 2
                )
            return self.claim((f"{town}中心幼儿园",), town, "幼儿园")
        if level is _L.TRAINING:
            if private:
                brand = rng.choice(_TRAINING_BRANDS)
                return self.claim(
                    (f"{brand}培训学校", f"{town}{brand}培训学校"), f"{town}{brand}", "培训学校", 2
                )
            return self.claim((f"{town}社区教育培训中心",), town, "社区教育培训中心", 2)
        if private:
            brand = rng.choice(_SCHOOL_BRANDS)
            suffix = _PRIVATE_SUFFIX.get(level, "学校")
            return self.claim(
                (f"{brand}{suffix}", f"{town}{brand}{suffix}"), f"{town}{brand}", suffix, 2
            )
        if level is _L.PRIMARY:
            return self.claim((), town, "小学")
        if level is _L.JUNIOR:
            return self.claim((), town, "初级中学")
        if level is _L.NINE_YEAR:
            return self.claim((f"{town}九年一贯制学校",), town, "九年一贯制学校", 2)
        if level is _L.SENIOR:
            return self.claim((), "区", "高级中学")
        if level is _L.VOCATIONAL:
            return self.claim(("区职业教育中心",), "区", "职业高级中学")
        if level is _L.SPECIAL:
            return self.claim(("区特殊教育学校",), "区", "特殊教育学校", 2)
        return self.claim((f"{town}成人文化技术学校",), town, "成人文化技术学校", 2)


def _township_weights(level: SchoolLevel) -> list[float]:
    if level in _EVEN_LEVELS:
        return [1.0 for _ in TOWNSHIPS]
    if level in _URBAN_LEVELS:
        return [w if urban else w / 10 for _name, w, urban in TOWNSHIPS]
    return [float(w) for _name, w, _urban in TOWNSHIPS]


#: Facilities that raise a school's risk level.
_RISKY: Final = frozenset(
    {
        Facility.BOARDING,
        Facility.SCHOOL_BUS,
        Facility.NEAR_WATER,
        Facility.CONSTRUCTION,
        Facility.SWIMMING_POOL,
    }
)


def _risk(
    level: SchoolLevel, students: int, facilities: set[Facility], rng: random.Random
) -> RiskLevel:
    score = len(facilities & _RISKY)
    score += students >= 2000
    score += level in (_L.KINDERGARTEN, _L.SPECIAL)
    score += rng.random() < 0.25
    if score == 0:
        return RiskLevel.LOW
    if score <= 2:
        return RiskLevel.MEDIUM
    return RiskLevel.HIGH


def schools(count: int, seed: int) -> list[School]:
    """*count* synthetic schools, ids ``s0001``…, listed by township (levels mixed)."""
    rng = random.Random(seed)
    # (township index, a random key that mixes the levels within a township, level)
    drafts: list[tuple[int, float, SchoolLevel]] = []
    townships = range(len(TOWNSHIPS))
    for level, n in _quotas(count):
        if n == 0:
            continue
        picks = rng.choices(townships, weights=_township_weights(level), k=n)
        drafts.extend((t, rng.random(), level) for t in picks)
    drafts.sort(key=lambda d: (d[0], d[1]))
    namer = _Namer()
    # The odds of each facility by (level, place), looked up once: place 0 town, 1 rural.
    odds = {
        (level, place): [(f, by.get(level, (0.0, 0.0))[place]) for f, by in _FACILITIES.items()]
        for level in SchoolLevel
        for place in (0, 1)
    }
    draw = rng.random
    out: list[School] = []
    for i, (t, _key, level) in enumerate(drafts, 1):
        town, _w, urban = TOWNSHIPS[t]
        private = draw() < _PRIVATE[level]
        lo, hi = _STUDENTS[level]
        students = int(rng.randint(lo, hi) * (1.4 if urban else 1.0))
        place = 0 if urban else 1
        facilities = {f for f, p in odds[level, place] if draw() < p}
        if level in _LAB_LEVELS:
            facilities.add(Facility.LAB_CHEMICALS)
        if draw() < _CONSTRUCTION:
            facilities.add(Facility.CONSTRUCTION)
        if draw() < _NEAR_WATER[place]:
            facilities.add(Facility.NEAR_WATER)
        out.append(
            School(
                id=f"s{i:04d}",
                name=namer.name(level, private, town, rng),
                level=level,
                ownership=Ownership.PRIVATE if private else Ownership.PUBLIC,
                students=students,
                township=town,
                risk=_risk(level, students, facilities, rng),
                # cast: the model's converter=frozenset types this parameter with an
                # unbound type variable, which rejects any typed argument under --strict
                facilities=cast(Any, frozenset(facilities)),
            )
        )
    return out


# -- packages ---------------------------------------------------------------------------


def _chunks(items: Sequence[str], parts: int) -> list[list[str]]:
    """*items* cut into *parts* consecutive runs whose sizes differ by at most one."""
    size, extra = divmod(len(items), parts)
    out: list[list[str]] = []
    start = 0
    for i in range(parts):
        end = start + size + (i < extra)
        out.append(list(items[start:end]))
        start = end
    return out


def packages(org: Organisation, school_list: Sequence[School]) -> list[Package]:
    """One leading-group package and one section package for every school.

    Schools are taken in township order, so each holder's schools are one consecutive
    run: a holder's schools cluster by township at no cost in balance. Holders with no
    schools (when there are fewer schools than holders) get no package.
    """
    order = [s.id for s in school_list]  # already listed by township
    leading = next(u for u in org.units if u.kind is UnitKind.LEADING_GROUP)
    sections: list[Unit] = [u for u in org.units if u.kind in (UnitKind.SECTION, UnitKind.CENTRE)]
    out: list[Package] = []
    holders = [p for p in leading.posts if p.role in (Role.LEADER, Role.DEPUTY, Role.MEMBER)]
    for post, chunk in zip(holders, _chunks(order, len(holders)), strict=True):
        if chunk:
            out.append(Package(id=f"pkg-lg-{post.id}", holder=post.id, schools=chunk))
    for unit, chunk in zip(sections, _chunks(order, len(sections)), strict=True):
        if not chunk:
            continue
        staff_posts = [p.id for p in unit.posts if p.role is Role.STAFF]
        # every staff post of the section visits: no school hangs on one inspector (三.2)
        out.append(Package(id=f"pkg-{unit.id}", holder=unit.id, schools=chunk, staff=staff_posts))
    return out
