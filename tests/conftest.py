"""Shared fixtures: the test data directory and a small valid district file as data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dualduty.storage import Store

# tests never auto-load installed plugins
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh ``memory:`` store, closed after the test."""
    from dualduty.storage import open_store  # after DUALDUTY_LOAD_PLUGINS is set above

    with open_store("memory:") as s:
        yield s


@pytest.fixture
def data_dir() -> Path:
    """``tests/data``: example organisations and bad files."""
    return DATA_DIR


@pytest.fixture
def district_data() -> dict[str, Any]:
    """A small valid bureau as file data (JSON style), fresh for each test.

    It fills every top-level list once so that a test can break one rule by changing
    one value: a leading group (leader, deputy, member), its office seated in 法规安全科
    and headed by that section's head, two sections with posts, business areas and
    duties, a common duty, an in-charge edge, two schools, a grade and a class, a
    package held by the deputy and one held by 规划科 with a staff post, and an
    organisation-specific hazard domain.

    Indices tests rely on: ``units[0]`` leading group, ``units[1]`` office,
    ``units[2]`` 法规安全科 (``safety``), ``units[3]`` 规划科 (``planning``);
    ``packages[0]`` held by ``deputy1``, ``packages[1]`` held by ``planning``.
    """
    return {
        "id": "demo",
        "name": "示范区教育体育局",
        "hazard_domains": [{"id": "heat", "name": "防暑降温", "name_en": "heat illness"}],
        "people": [
            {"id": "wang", "name": "王建国"},
            {"id": "li", "name": "李卫东"},
            {"id": "zhao", "name": "赵敏"},
        ],
        "units": [
            {
                "id": "lg",
                "name": "学校安全稳定工作领导小组",
                "kind": "leading_group",
                "head_post": "chief",
                "posts": [
                    {"id": "chief", "title": "局长", "role": "leader", "holder": "wang"},
                    {"id": "deputy1", "title": "副局长", "role": "deputy", "holder": "li"},
                    {"id": "member1", "title": "纪检组长", "role": "member"},
                ],
            },
            {
                "id": "office",
                "name": "领导小组办公室",
                "kind": "office",
                "seated_in": "safety",
                "head_post": "safety.head",
            },
            {
                "id": "safety",
                "name": "法规安全科",
                "kind": "section",
                "head_post": "safety.head",
                "posts": [
                    {
                        "id": "safety.head",
                        "title": "科长",
                        "role": "section_head",
                        "holder": "zhao",
                    },
                    {"id": "safety.staff", "title": "干部", "role": "staff"},
                ],
                "areas": [{"id": "law", "name": "依法治校"}],
                "duties": [
                    {
                        "id": "safety.1",
                        "text": "负责学校消防安全的监督检查。",
                        "clause": "二(四).法规安全科.1",
                        "area": "law",
                        "hazards": ["fire"],
                        "activities": ["supervise", "inspect"],
                    }
                ],
            },
            {
                "id": "planning",
                "name": "规划科",
                "kind": "section",
                "head_post": "planning.head",
                "posts": [
                    {"id": "planning.head", "title": "科长", "role": "section_head"},
                    {"id": "planning.staff", "title": "干部", "role": "staff"},
                ],
                "areas": [{"id": "buildings", "name": "校舍建设"}],
                "duties": [
                    {
                        "id": "planning.1",
                        "text": "负责校舍安全和在建工程的安全监管。",
                        "clause": "二(四).规划科.1",
                        "area": "buildings",
                        "hazards": ["buildings", "construction"],
                    }
                ],
            },
        ],
        "common_duties": [
            {
                "id": "common.1",
                "text": "每季度专题研究学校安全稳定工作两次以上。",
                "clause": "二(三).1",
                "applies_to": ["section", "centre"],
            }
        ],
        "in_charge": [{"post": "deputy1", "units": ["safety", "planning"]}],
        "schools": [
            {"id": "no1", "name": "第一中学", "level": "junior", "students": 1200},
            {"id": "shiyan", "name": "实验小学", "level": "primary"},
        ],
        "places": [
            {"id": "grade7", "name": "七年级", "kind": "grade"},
            {"id": "class7-1", "name": "七(1)班", "kind": "class", "parent": "grade7"},
        ],
        "packages": [
            {"id": "pk.deputy1", "holder": "deputy1", "schools": ["no1"]},
            {
                "id": "pk.planning",
                "holder": "planning",
                "schools": ["shiyan"],
                "staff": ["planning.staff"],
            },
        ],
    }
