"""District files: round trips in every format, deterministic output, atomic writes, errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pendulum
import pytest
import tomli_w
import yaml
from hypothesis import HealthCheck, given, settings

from dualduty import DualdutyError, InvalidOrganisation, Organisation
from dualduty.io import FORMAT_VERSION, dump, dumps, format_for, from_data, load, loads, to_data
from dualduty.io._converters import Format
from dualduty.model import (
    ActivityVerb,
    Duty,
    HazardDomain,
    Person,
    Rules,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
)
from strategies import organisations

FORMATS: list[Format] = ["toml", "json", "yaml"]
SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}

# Whole organisations are costly to draw: few examples, no deadline (CI machines vary).
modest = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def small_org() -> Organisation:
    """A small valid organisation with a date, a set and Chinese text."""
    return Organisation(
        "demo",
        "示范区教育体育局",
        as_of=dt.date(2024, 9, 1),
        rules=Rules(inspections_per_school_per_quarter=3),
        people=[Person("wang", "王建国")],
        units=[
            Unit(
                "safety",
                "法规安全科",
                UnitKind.SECTION,
                duties=[
                    Duty(
                        "safety.1",
                        "负责学校消防安全的监督检查。",
                        "二(四).法规安全科.1",
                        hazards={"fire", "buildings", "utilities"},
                        activities={ActivityVerb.SUPERVISE, ActivityVerb.INSPECT},
                    )
                ],
            )
        ],
        schools=[School("no1", "第一中学", SchoolLevel.JUNIOR, students=1200)],
    )


# -- round trips ----------------------------------------------------------------------------


@modest
@given(organisations())
def test_drawn_organisations_are_valid(org: Organisation) -> None:
    assert org.problems() == []


@pytest.mark.parametrize("fmt", FORMATS)
@modest
@given(org=organisations())
def test_round_trip(fmt: Format, org: Organisation) -> None:
    text = dumps(org, fmt)
    back = loads(text, fmt)
    assert back == org
    # Writing what was read gives the same text: the output depends on the model only.
    assert dumps(back, fmt) == text
    assert dumps(org, fmt) == text


@pytest.mark.parametrize("fmt", FORMATS)
@modest
@given(org=organisations())
def test_data_round_trip(fmt: Format, org: Organisation) -> None:
    data = to_data(org, fmt)
    assert next(iter(data)) == "format"
    assert data["format"] == FORMAT_VERSION
    assert from_data(data, fmt) == org


def test_to_data_leaves_defaults_out() -> None:
    org = Organisation("x", "某区", schools=[School("no1", "第一中学", SchoolLevel.PRIMARY)])
    assert to_data(org) == {
        "format": 1,
        "id": "x",
        "name": "某区",
        "schools": [{"id": "no1", "name": "第一中学", "level": "primary"}],
    }


def test_to_data_is_plain_data(small_org: Organisation) -> None:
    data = to_data(small_org, "json")
    # JSON data is made of JSON types only: enums become their values, dates ISO text.
    assert json.loads(json.dumps(data)) == data
    duty = data["units"][0]["duties"][0]
    assert type(data["units"][0]["kind"]) is str
    assert duty["hazards"] == ["buildings", "fire", "utilities"]  # sets are written sorted
    assert duty["activities"] == ["inspect", "supervise"]
    assert data["as_of"] == "2024-09-01"
    assert data["rules"] == {"inspections_per_school_per_quarter": 3}
    # TOML and YAML data hold plain dates (not pendulum's subclass) and plain strings
    plain: list[Format] = ["toml", "yaml"]
    for fmt in plain:
        other = to_data(small_org, fmt)
        assert type(other["as_of"]) is dt.date
        assert type(other["units"][0]["kind"]) is str


@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_load_as_pendulum_dates(fmt: Format, small_org: Organisation) -> None:
    back = loads(dumps(small_org, fmt), fmt)
    assert isinstance(back.as_of, pendulum.Date)
    assert back.as_of == dt.date(2024, 9, 1)


def test_each_format_reads_as_its_own_kind_of_file(small_org: Organisation) -> None:
    toml_text = dumps(small_org, "toml")
    assert toml_text.startswith("format = 1\n")
    assert "as_of = 2024-09-01\n" in toml_text  # a TOML date, not a string
    assert "示范区教育体育局" in toml_text
    assert tomllib.loads(toml_text)["name"] == "示范区教育体育局"

    json_text = dumps(small_org, "json")
    assert json_text.endswith("}\n")
    assert '"name": "示范区教育体育局"' in json_text  # not \\u escapes
    assert json.loads(json_text)["as_of"] == "2024-09-01"

    yaml_text = dumps(small_org, "yaml")
    assert yaml_text.startswith("format: 1\nid: demo\nname: 示范区教育体育局\n")  # model order
    assert yaml.safe_load(yaml_text)["as_of"] == dt.date(2024, 9, 1)


def test_output_does_not_depend_on_the_hash_seed(data_dir: Path) -> None:
    # Sets iterate in an order that changes with PYTHONHASHSEED; files must not.
    script = (
        "import sys; from dualduty.io import load, dumps; "
        "org = load(sys.argv[1]); "
        "sys.stdout.write(''.join(dumps(org, f) for f in ('toml', 'json', 'yaml')))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(data_dir / "school.toml")],
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


# -- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "fmt"), SUFFIXES.items())
def test_dump_and_load_by_suffix(
    tmp_path: Path, small_org: Organisation, suffix: str, fmt: Format
) -> None:
    path = tmp_path / f"district{suffix}"
    dump(small_org, path)
    assert path.read_text(encoding="utf-8") == dumps(small_org, fmt)
    assert load(path) == small_org
    assert load(str(path)) == small_org  # str paths work too
    assert format_for(path) == fmt
    assert format_for(path.with_suffix(suffix.upper())) == fmt


def test_a_named_format_wins_over_the_suffix(tmp_path: Path, small_org: Organisation) -> None:
    path = tmp_path / "district.txt"
    dump(small_org, path, "json")
    assert json.loads(path.read_text(encoding="utf-8"))["id"] == "demo"
    assert load(path, "json") == small_org


def test_dump_to_an_unknown_suffix_writes_nothing(tmp_path: Path, small_org: Organisation) -> None:
    with pytest.raises(DualdutyError, match="cannot tell the format") as info:
        dump(small_org, tmp_path / "district.txt")
    assert not isinstance(info.value, InvalidOrganisation)
    assert list(tmp_path.iterdir()) == []


def test_dump_into_a_missing_directory(tmp_path: Path, small_org: Organisation) -> None:
    target = tmp_path / "no" / "such" / "district.toml"
    with pytest.raises(DualdutyError, match="cannot write") as info:
        dump(small_org, target)
    assert str(target) in str(info.value)
    assert not (tmp_path / "no").exists()


def _old_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "district.toml"
    old = "# the old file\nid = 'old'\nname = '旧'\n"
    path.write_text(old, encoding="utf-8")
    return path, old


def test_a_failing_serializer_leaves_the_old_file(
    tmp_path: Path, small_org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, old = _old_file(tmp_path)

    def broken(_data: Any) -> str:
        raise RuntimeError("serializer broke")

    monkeypatch.setattr(tomli_w, "dumps", broken)
    with pytest.raises(RuntimeError, match="serializer broke"):
        dump(small_org, path)
    assert path.read_text(encoding="utf-8") == old
    assert [p.name for p in tmp_path.iterdir()] == ["district.toml"]


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, small_org: Organisation, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    path, old = _old_file(tmp_path)
    seen: list[str] = []

    def fail(*_args: Any) -> None:
        # The temporary file exists when the step fails, and the target is untouched.
        seen.extend(sorted(p.name for p in tmp_path.iterdir()))
        raise OSError(28, "No space left on device")

    if step == "write":
        real_fdopen = os.fdopen

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            fh = real_fdopen(fd, *args, **kwargs)

            def write(text: str) -> int:
                fh.buffer.write(text[: len(text) // 2].encode("utf-8"))  # half of it lands
                fh.buffer.flush()
                fail()
                return 0

            fh.write = write
            return fh

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(os, step, fail)

    with pytest.raises(OSError, match="No space left on device"):
        dump(small_org, path)
    monkeypatch.undo()
    assert len(seen) == 2
    assert "district.toml" in seen
    (temporary,) = set(seen) - {"district.toml"}
    assert temporary.startswith(".district.toml.")
    assert temporary.endswith(".tmp")
    assert path.read_text(encoding="utf-8") == old
    assert [p.name for p in tmp_path.iterdir()] == ["district.toml"]


def test_an_interrupted_dump_leaves_no_temporary_file(
    tmp_path: Path, small_org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, old = _old_file(tmp_path)

    def interrupt(*_args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        dump(small_org, path)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == old
    assert [p.name for p in tmp_path.iterdir()] == ["district.toml"]


def test_dump_replaces_a_file_in_full(tmp_path: Path, small_org: Organisation) -> None:
    path = tmp_path / "district.toml"
    path.write_text("x" * 100_000, encoding="utf-8")  # longer than what replaces it
    dump(small_org, path)
    assert path.read_text(encoding="utf-8") == dumps(small_org, "toml")
    assert [p.name for p in tmp_path.iterdir()] == ["district.toml"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_dump_respects_the_umask_and_keeps_a_files_mode(
    tmp_path: Path, small_org: Organisation
) -> None:
    mask = os.umask(0o022)
    try:
        new = tmp_path / "new.toml"
        dump(small_org, new)
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        kept = tmp_path / "kept.toml"
        kept.write_text("", encoding="utf-8")
        kept.chmod(0o640)
        dump(small_org, kept)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(mask)


# -- errors name their source ------------------------------------------------------------------


def test_a_load_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text("id: x\nname: 某区\nschools:\n- id: no1\n  name: 一中\n", encoding="utf-8")
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    error = info.value
    assert error.source == str(path)
    assert [(p.path, p.message) for p in error.problems] == [
        ("schools[0].level", "required field missing")
    ]
    assert str(error) == (
        f"{path}: 1 problem found\n  {path}: schools[0].level: required field missing"
    )


def test_loads_and_from_data_name_their_source() -> None:
    with pytest.raises(InvalidOrganisation) as info:
        loads("id = 'x'\n", "toml", source="upload.toml")
    assert info.value.source == "upload.toml"
    assert str(info.value).splitlines() == [
        "upload.toml: 1 problem found",
        "  upload.toml: name: required field missing",
    ]
    with pytest.raises(InvalidOrganisation) as info:
        loads("id = 'x'\n")
    assert info.value.source == "<string>"
    with pytest.raises(InvalidOrganisation) as info:
        from_data({"id": "x"})
    assert info.value.source == "<data>"
    with pytest.raises(InvalidOrganisation) as info:
        from_data({"id": "x"}, source="api request")
    assert info.value.source == "api request"


def test_a_valid_organisation_with_bad_references_built_in_python_dumps_but_does_not_load() -> None:
    # dumps() writes what it is given; load() checks it, so a bad file cannot slip back in.
    org = Organisation(
        "x",
        "某区",
        hazard_domains=[HazardDomain("heat", "防暑", "heat")],
        units=[Unit("a", "甲科", UnitKind.SECTION, parent="ghost")],
    )
    text = dumps(org, "toml")
    with pytest.raises(InvalidOrganisation) as info:
        loads(text, "toml", source="x.toml")
    assert [p.path for p in info.value.problems] == ["units[0].parent"]
