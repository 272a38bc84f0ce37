"""Closed vocabularies of the model, as string enums (their values are what files hold)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ActivityVerb",
    "DutyKind",
    "Facility",
    "OrgKind",
    "Ownership",
    "PlaceKind",
    "RiskLevel",
    "Role",
    "SchoolLevel",
    "UnitKind",
]


class OrgKind(StrEnum):
    """What an :class:`~dualduty.model.Organisation` is."""

    BUREAU = "bureau"
    """An education (and sports) bureau, 教育（体育）局, supervising many schools."""
    SCHOOL = "school"
    """One school running its own plan; it packages grades, classes or areas."""


class UnitKind(StrEnum):
    """Kinds of :class:`~dualduty.model.Unit`."""

    LEADING_GROUP = "leading_group"
    """领导小组: the safety leading group (clause 一)."""
    OFFICE = "office"
    """领导小组办公室: the leading group's office, seated in another unit (clause 一)."""
    SECTION = "section"
    """科室 (a school: 处室): a functional section of the organisation (clause 二(四))."""
    CENTRE = "centre"
    """事业单位: a centre, station or service unit (中心、站、室) listed with the sections."""
    GRADE_GROUP = "grade_group"
    """年级组: a grade group in a school's own plan."""
    OTHER = "other"
    """Anything else (a working party, a campus)."""


#: Units that do the sections' work: they own section duties and may hold packages.
SECTION_KINDS: frozenset[UnitKind] = frozenset(
    {UnitKind.SECTION, UnitKind.CENTRE, UnitKind.GRADE_GROUP}
)


class Role(StrEnum):
    """The role of a :class:`~dualduty.model.Post`."""

    LEADER = "leader"
    """组长: heads the leading group (the bureau chief, a school's principal)."""
    DEPUTY = "deputy"
    """副组长: a deputy in charge (分管副职)."""
    MEMBER = "member"
    """成员: another member of the leadership team."""
    SECTION_HEAD = "section_head"
    """科室负责人: heads a section and answers for its safety work as a whole."""
    STAFF = "staff"
    """机关干部: a staff member of a section."""


#: Roles of the leading group's posts.
LEADING_ROLES: frozenset[Role] = frozenset({Role.LEADER, Role.DEPUTY, Role.MEMBER})


class DutyKind(StrEnum):
    """Business or safety: the two halves of 一岗双责."""

    BUSINESS = "business"
    """业务职责: a line of business the post or unit runs."""
    SAFETY = "safety"
    """安全职责: the safety and stability work that comes with it."""


class ActivityVerb(StrEnum):
    """What a duty makes its owner do."""

    PLAN = "plan"
    """制定 / 部署: plan, draft policy."""
    COORDINATE = "coordinate"
    """协调 / 统筹: coordinate."""
    SUPERVISE = "supervise"
    """督导 / 监管: supervise."""
    INSPECT = "inspect"
    """检查 / 督查: inspect."""
    APPROVE = "approve"
    """审批: approve."""
    REPORT = "report"
    """报告 / 信息反馈: report."""
    HANDLE = "handle"
    """处置: handle incidents and problems."""
    INVESTIGATE = "investigate"
    """立案 / 调查: investigate, hold to account."""
    EDUCATE = "educate"
    """教育 / 培训: educate and train."""
    MANAGE = "manage"
    """管理: manage day to day."""


class SchoolLevel(StrEnum):
    """The level of a :class:`~dualduty.model.School`."""

    KINDERGARTEN = "kindergarten"
    """幼儿园."""
    PRIMARY = "primary"
    """小学."""
    JUNIOR = "junior"
    """初级中学."""
    SENIOR = "senior"
    """普通高中."""
    NINE_YEAR = "nine_year"
    """九年一贯制学校."""
    VOCATIONAL = "vocational"
    """中等职业学校."""
    SPECIAL = "special"
    """特殊教育学校."""
    ADULT = "adult"
    """成人学校."""
    TRAINING = "training"
    """社会培训机构: an off-campus training institution."""


class Ownership(StrEnum):
    """Who runs a school."""

    PUBLIC = "public"
    """公办."""
    PRIVATE = "private"
    """民办."""


class RiskLevel(StrEnum):
    """A school's assessed safety risk."""

    LOW = "low"
    """低."""
    MEDIUM = "medium"
    """中."""
    HIGH = "high"
    """高."""


class Facility(StrEnum):
    """What a school has that brings its own hazards."""

    CANTEEN = "canteen"
    """食堂."""
    BOARDING = "boarding"
    """寄宿 (dormitories)."""
    SCHOOL_BUS = "school_bus"
    """校车."""
    LAB_CHEMICALS = "lab_chemicals"
    """实验室危险化学品."""
    CONSTRUCTION = "construction"
    """在建工程."""
    SWIMMING_POOL = "swimming_pool"
    """游泳池."""
    NEAR_WATER = "near_water"
    """临水 (rivers, ponds nearby)."""


class PlaceKind(StrEnum):
    """What a :class:`~dualduty.model.Place` inside a school is."""

    GRADE = "grade"
    """年级."""
    CLASS = "class"
    """班级."""
    AREA = "area"
    """校园区域 (a building, the playground, the canteen)."""
