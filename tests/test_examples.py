"""The examples run, the notebook executes, and every clause of the plan is traced.

Each script in ``examples/`` runs in a subprocess (in a temporary folder, with installed
plugins not loaded); ``examples/coverage.ipynb`` is executed by a real Jupyter kernel
(nbclient, ipykernel; matplotlib's Agg backend); the traceability collector of the docs
(``docs/_ext/traceability.py``) finds an implementing place for every clause.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["DUALDUTY_LOAD_PLUGINS"] = ""
    env["MPLBACKEND"] = "Agg"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


EXPECTED = {
    "load_and_check.py": [
        "bureau.toml: valid — 区教育体育局 (reference-bureau)",
        "coverage: 0 error(s)",
    ],
    "plan_packages.py": ["max load: 1.018 × the lower bound", "written: "],
    "schedule_to_ics.py": ["schedule 2026: 240 visits, 189 meetings, 92 deadlines", "calendars to"],
    "custom_scoring_plugin.py": ["assessed 23 sections", "local.unannounced_bonus: +"],
}


def test_every_script_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs(script: str, tmp_path: Path) -> None:
    done = _run(script, str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for line in EXPECTED[script]:
        assert line in done.stdout, done.stdout
    assert (tmp_path / "out").is_dir()


def test_load_and_check_reports_gaps_of_a_file(tmp_path: Path) -> None:
    district = ROOT / "docs" / "how-to" / "demo-bureau.toml"
    done = _run("load_and_check.py", str(tmp_path), str(district), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "[error] no_section_package (三.1)" in done.stdout


def test_load_and_check_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\nid = "x"\nname = "坏"\nkind = "nowhere"\n', encoding="utf-8")
    done = _run("load_and_check.py", str(tmp_path), str(bad), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "bad.toml: invalid" in done.stdout


def test_schedule_files_are_calendars(tmp_path: Path) -> None:
    done = _run("schedule_to_ics.py", str(tmp_path), "2026", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "ics" / "schedule.ics").read_text(encoding="utf-8")
    assert text.startswith("BEGIN:VCALENDAR")
    assert text.count("BEGIN:VEVENT") == 240 + 189 + 92


def test_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbclient
    import nbformat

    for name, value in _env().items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(  # type: ignore[no-untyped-call]  # nbformat ships no types
        EXAMPLES / "coverage.ipynb", as_version=4
    )
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4


def _traceability() -> ModuleType:
    path = ROOT / "docs" / "_ext" / "traceability.py"
    spec = importlib.util.spec_from_file_location("dualduty_docs_traceability", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_clause_is_traced() -> None:
    traceability = _traceability()
    table = traceability.collect()
    from dualduty.reference import clause_text

    assert len(table) == 109
    for ref in table:
        clause_text(ref)  # every row is a clause of the plan
    assert traceability.untraced(table) == []
    kinds = {ref: {p.kind for p in places} for ref, places in table.items()}
    assert "organisation" in kinds["二(四).规划科.2"]
    assert {"rules", "rubric", "code"} <= kinds["三.2"]
    assert "parts" in kinds["二"]


def test_an_untraced_clause_is_found(tmp_path: Path) -> None:
    traceability = _traceability()
    table = traceability.collect(src=tmp_path, docs=None)  # no code cites anything
    missing = traceability.untraced(table)
    assert missing == ["三", "三.1"]  # only the code cites 三.1 (packages), so 三 falls too
    assert "二(四).规划科.2" not in missing  # the reference organisation's duty still does


def test_clause_references_are_found_in_text() -> None:
    traceability = _traceability()
    found = list(
        traceability.find_refs("clause 一; 三.2、二（四）.规划科.1\n一岗双责 三.12 二(三).1x")
    )
    # 三.12 is no clause; of 二(三).1x only the sub-clause 二(三) stands on its own.
    assert found == [("一", 1), ("三.2", 1), ("二(四).规划科.1", 1), ("二(三)", 2)]
