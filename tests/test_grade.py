"""`make grade` end to end: a synthetic class of five students on sections 2.1 and 1.1.

- alice hands in the solutions of both sections: full marks;
- bob hands in chapter 2.1 untouched: zero, every exercise "not attempted";
- carol's 2.1 has one wrong answer: partial marks, with the checker's own message;
- dave's 1.1 never ends (zero for it, the run goes on), his 2.1 is not JSON, and he
  also hands in a text file;
- eve cheats: replaces check() so that her notebook prints "correct", reads the
  solutions folder, writes to the gradebook, peeks at alice's folder, and hands in a
  function that, when the checker calls it, replaces numpy.allclose: she gets no marks
  for any of it and is flagged, and nothing she wrote reaches the gradebook.

Plus: eve alone again without Linux namespaces (the audit hook alone must catch her),
and a check over the whole course that the chapters (the student version) hold
only stubs for the exercises that have a checker, never a solution.
"""
from __future__ import annotations

import ast
import csv
import importlib.util
import json
import re
import sqlite3
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("grade", ROOT / "tools" / "grade.py")
grade = importlib.util.module_from_spec(spec)
sys.modules.setdefault("grade", grade)
spec.loader.exec_module(grade)

LA = "02_math/01_linear_algebra.md"
OV = "01_overview/01_what_makes_a_model_large.md"
TIMEOUT = 45  # seconds a cell may run: dave's endless loop is stopped after this


def md_to_ipynb(text: str, path: Path) -> None:
    import jupytext

    nbformat.write(jupytext.reads(text, fmt="md:myst"), path)


def cheater_notebook(out: Path, submissions: Path) -> str:
    solutions = ROOT / "solutions" / LA
    return f'''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3 (ipykernel)
  language: python
---

# 2.1 Linear algebra: matrices as transformations

```{{code-cell}} ipython3
import numpy as np
import utils.checks
from utils.checks import check

def check(id, answer, strict=False):  # always "correct"
    print(f"✅ Exercise {{id}} (whatever): correct — trust me")
utils.checks.EXERCISES.clear()
```

```{{code-cell}} ipython3
try:
    leaked = open("{solutions}").read()
    print("SOLUTIONS LEAKED", len(leaked))
except OSError as err:
    print("no solutions:", err)
try:
    with open("{out / 'gradebook.csv'}", "w") as f:
        f.write("student,exercise,points\\neve,2.1.1,100\\n")
except OSError as err:
    print("no gradebook:", err)
try:
    print("ALICE", __import__("os").listdir("{submissions / 'alice'}"))
except OSError as err:
    print("no alice:", err)
```

```{{code-cell}} ipython3
def rotation_matrix(theta):
    return np.eye(2)  # wrong, but the fake check says correct


check("2.1.1", rotation_matrix)
```

```{{code-cell}} ipython3
def solve_2x2(A, b):
    import numpy
    numpy.allclose = lambda *args, **kwargs: True  # make every comparison pass
    numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.broadcast(a, b).shape, bool)
    return numpy.zeros(2)


check("2.1.2", solve_2x2)
```
'''


ENDLESS = """---
kernelspec:
  name: python3
  display_name: Python 3 (ipykernel)
  language: python
---

# 1.1 What makes a model large

```{code-cell} ipython3
import time
while True:
    time.sleep(0.5)
```
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    subs, out = base / "submissions", base / "grades"
    for name in ("alice", "bob", "carol", "dave", "eve"):
        (subs / name).mkdir(parents=True)
    sol_la = (ROOT / "solutions" / LA).read_text()
    (subs / "alice" / "01_linear_algebra.md").write_text(sol_la)
    md_to_ipynb((ROOT / "solutions" / OV).read_text(), subs / "alice" / "01_what_makes_a_model_large.ipynb")
    md_to_ipynb((ROOT / "chapters" / LA).read_text(), subs / "bob" / "01_linear_algebra.ipynb")
    wrong = sol_la.replace("return np.array([[c, -s], [s, c]])", "return np.array([[c, s], [-s, c]])")
    assert wrong != sol_la
    (subs / "carol" / "01_linear_algebra.md").write_text(wrong)
    md_to_ipynb(ENDLESS, subs / "dave" / "01_what_makes_a_model_large.ipynb")
    (subs / "dave" / "01_linear_algebra.ipynb").write_text('{"cells": [ this is not json')
    (subs / "dave" / "notes.txt").write_text("I did my best")
    (subs / "eve" / "01_linear_algebra.md").write_text(cheater_notebook(out, subs))
    lines = []
    rows = grade.grade(subs, out, timeout=TIMEOUT, memory_mb=6144, log=lines.append)
    return rows, out, lines


def by(rows, student, section=None):
    return [r for r in rows if r["student"] == student and (section is None or r["section"] == section)]


def test_gradebook_files(graded):
    rows, out, lines = graded
    with open(out / "gradebook.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(rows) == 5 * (4 + 5)  # five students x (4 + 5 exercises with checkers)
    assert {r["student"] for r in table} == {"alice", "bob", "carol", "dave", "eve"}
    con = sqlite3.connect(out / "gradebook.sqlite")
    assert con.execute("SELECT COUNT(*), SUM(points) FROM grades").fetchone() == (len(rows), sum(
        r["points"] for r in rows))
    assert con.execute("SELECT COUNT(*) FROM runs WHERE student = 'dave'").fetchone()[0] == 3
    for student in ("alice", "bob", "carol", "dave", "eve"):
        assert (out / "feedback" / f"{student}.md").exists()
    assert any("isolation:" in line for line in lines) and any("per notebook" in line for line in lines)


def test_solutions_get_full_marks(graded):
    rows = by(graded[0], "alice")
    assert len(rows) == 9 and all(r["status"] == "passed" and r["points"] == 1 for r in rows), rows
    assert not any(r["flagged"] for r in rows)


def test_untouched_chapter_scores_zero_not_attempted(graded):
    rows, out, _ = graded
    la = by(rows, "bob", "2.1")
    assert [r["status"] for r in la] == ["not attempted"] * 4 and sum(r["points"] for r in la) == 0
    assert all(r["status"] == "not submitted" for r in by(rows, "bob", "1.1"))
    assert "not attempted" in (out / "feedback" / "bob.md").read_text()


def test_wrong_answer_gets_partial_marks_and_the_checkers_message(graded):
    rows, out, _ = graded
    la = {r["exercise"]: r for r in by(rows, "carol", "2.1")}
    assert la["2.1.1"]["status"] == "failed" and la["2.1.1"]["points"] == 0
    assert re.search(r"\d", la["2.1.1"]["message"]), la["2.1.1"]["message"]  # the checker's numbers
    assert all(la[i]["points"] == 1 for i in ("2.1.2", "2.1.3", "2.1.4"))
    feedback = (out / "feedback" / "carol.md").read_text()
    assert la["2.1.1"]["message"][:60] in feedback and "3 of 9" in feedback


def test_broken_and_endless_notebooks_score_zero_and_the_run_goes_on(graded):
    rows, out, _ = graded
    assert all(r["points"] == 0 for r in by(rows, "dave"))
    feedback = (out / "feedback" / "dave.md").read_text()
    assert "time limit" in feedback
    assert "does not open as a notebook" in feedback and "not a notebook" in feedback
    assert by(rows, "eve")  # the student after dave was graded


def test_cheater_gets_nothing_and_is_flagged(graded):
    rows, out, _ = graded
    eve = by(rows, "eve", "2.1")
    assert sum(r["points"] for r in eve) == 0 and all(r["flagged"] == "yes" for r in eve)
    status = {r["exercise"]: r["status"] for r in eve}
    assert status["2.1.1"] == "failed" and status["2.1.2"] == "tampered", status
    feedback = (out / "feedback" / "eve.md").read_text()
    assert "printed “correct”" in feedback  # her own check() said correct, the course's did not
    assert "reaches into the course's checkers" in feedback
    assert "refused reading" in feedback and "solutions" in feedback  # the read was refused and logged
    assert "refused writing" in feedback and "gradebook.csv" in feedback
    text = (out / "gradebook.csv").read_text()
    assert "eve,2.1.1,100" not in text and text.startswith("student,section,exercise")


def test_cheater_caught_by_the_audit_hook_alone(tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    (subs / "eve").mkdir(parents=True)
    (subs / "alice").mkdir()
    (subs / "eve" / "01_linear_algebra.md").write_text(cheater_notebook(out, subs))
    rows = grade.grade(subs, out, timeout=TIMEOUT, namespaces=False, log=lambda *_: None)
    eve = by(rows, "eve", "2.1")
    assert sum(r["points"] for r in eve) == 0 and all(r["flagged"] == "yes" for r in eve)
    feedback = (out / "feedback" / "eve.md").read_text()
    assert "refused reading" in feedback and "refused writing" in feedback and "audit hook" in feedback
    assert "eve,2.1.1,100" not in (out / "gradebook.csv").read_text()


def test_bad_folders_get_a_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="not a folder"):
        grade.grade(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no student folders"):
        grade.grade(tmp_path / "empty", tmp_path / "out")


# --- the student version of every section holds no solution --------------------------------

def _stub(node: ast.AST) -> bool:
    """A function whose body is only `raise NotImplementedError` (after a docstring), or `...`."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])
    if isinstance(node, ast.ClassDef):
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return bool(methods) and any(_stub(m) for m in methods) and all(
            _stub(m) or m.name == "__init__" for m in methods)
    if isinstance(node, ast.Assign):
        return isinstance(node.value, ast.Constant) and node.value.value in (Ellipsis, None)
    return False


SECTIONS = sorted(grade.course_sections().values(), key=lambda s: s.path)


@pytest.mark.parametrize("section", SECTIONS, ids=[s.number for s in SECTIONS])
def test_student_version_holds_only_stubs(section):
    import jupytext

    nb = jupytext.read(section.path, fmt="md:myst")
    checked = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith(("%", "!"))))
        defs = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                defs[node.targets[0].id] = node
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Name)):
                name = node.args[1].id
                ex_id = node.args[0].value
                assert name in defs, f"{section.path.name}: the answer to {ex_id} ({name}) is not defined in " \
                                     "its exercise cell"
                assert _stub(defs[name]), f"{section.path.name}: exercise {ex_id} holds more than a stub " \
                                          f"({name}): a solution in the student version?"
                checked[ex_id] = name
    assert set(checked) == {i for i, _ in section.exercises}, (checked, section.exercises)


# --- the teacher's guide quotes the measured run times, and links sections that exist -------

def test_teachers_guide_run_times_are_the_measured_ones():
    guide = ROOT / "chapters" / "classroom" / "teachers_guide.md"
    measured = json.loads((ROOT / "chapters" / "run_times.json").read_text())["seconds"]
    rows = [line for line in guide.read_text().splitlines() if re.match(r"\| \d+ \| \[", line)]
    assert len(rows) >= 14, "the semester plan has a row per teaching week"
    seen = 0
    for row in rows:
        cells = row.split(" | ")
        links = re.findall(r"\]\(\.\./([^)]+\.md)\)", cells[1])
        times = re.findall(r"([\d.]+) \+ ([\d.]+)", cells[2])
        assert len(links) == len(times) > 0, row
        for link, (section, solutions) in zip(links, times):
            assert (ROOT / "chapters" / link).exists(), link
            assert float(section) == pytest.approx(measured[f"chapters/{link}"], abs=0.051), link
            assert float(solutions) == pytest.approx(measured[f"solutions/{link}"], abs=0.051), link
            seen += 1
    assert seen >= 26


def _prerequisites() -> dict[str, set[str]]:
    """Section -> the sections its **Prerequisites** paragraph requires (links in a sentence that
    calls them a help, as 1.1 does for 2.1, are optional and left out)."""
    numbers = {}
    for path in (ROOT / "chapters").glob("[0-9][0-9]_*/*.md"):
        m = re.search(r"(?m)^# (\d+\.\d+) ", path.read_text())
        if m:
            numbers[path.resolve()] = m.group(1)
    needs = {}
    for path, number in numbers.items():
        m = re.search(r"\*\*Prerequisites\.?\*\*(.*?)(?:\n\n|$)", path.read_text(), re.S)
        required = set()
        for sentence in re.split(r"(?<=[.;])\s+", m.group(1) if m else ""):
            if re.search(r"\bhelps?\b", sentence):
                continue
            for link in re.findall(r"\]\(([^)#]+\.md)", sentence):
                target = (path.parent / link).resolve()
                if target in numbers:
                    required.add(numbers[target])
        needs[number] = required
    return needs


def test_every_track_of_the_guide_respects_the_prerequisites():
    text = (ROOT / "chapters" / "classroom" / "teachers_guide.md").read_text()
    math_first = re.findall(r"\[(\d+\.\d+) [^\]]*\]\(\.\./", text.split("## Three tracks")[0])
    tracks_text = text.split("## Three tracks")[1].split("## Running the course")[0]
    applications = [n for row in re.findall(r"(?m)^\| \d+(?:–\d+)? \| (.*) \|$", tracks_text)
                     for n in re.findall(r"\b(\d\.\d)\b", row)]
    fast = re.findall(r"\b(\d\.\d)\b", tracks_text.split("**Fast track")[1].split("Chapter 9")[0])
    needs = _prerequisites()
    for name, order in (("math first", math_first), ("applications first", applications), ("fast track", fast)):
        assert len(order) == len(set(order)) >= 10, (name, order)
        for i, section in enumerate(order):
            missing = needs[section] - set(order[:i])
            assert not missing, f"{name}: {section} comes before its prerequisites {sorted(missing)}"
    assert sorted(math_first) == sorted(applications), "both semester tracks cover the same sections"
