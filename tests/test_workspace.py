"""A learner's answers never conflict with course updates (tools/workspace.py), end to end:
clone the course, sync the workspace, answer an exercise and save, pull a new commit of the
course that changes that chapter and another one, and sync again. Nothing is lost, the pull
does not conflict, and the learner is told what changed."""
import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("workspace", ROOT / "tools" / "workspace.py")
workspace = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workspace)


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


@pytest.fixture
def course(tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "chapters" / "02_math").mkdir(parents=True)
    (upstream / "chapters" / "02_math" / "01_a.md").write_text("# A\n\ndef f():\n    raise NotImplementedError\n")
    (upstream / "chapters" / "02_math" / "02_b.md").write_text("# B\n")
    (upstream / "chapters" / "02_math" / "data").mkdir()
    (upstream / "chapters" / "02_math" / "data" / "t.csv").write_text("x\n1\n")
    (upstream / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "course v1")
    learner = tmp_path / "learner"
    git(tmp_path, "clone", "-q", str(upstream), str(learner))
    return upstream, learner


def test_answers_survive_a_pull_and_updates_are_reported(course, capsys):
    upstream, learner = course
    work = learner / "my_work"
    first = workspace.sync(learner, work)
    assert sorted(first["new"]) == ["chapters/02_math/01_a.md", "chapters/02_math/02_b.md",
                                    "chapters/02_math/data/t.csv"]
    assert (work / "jupytext.toml").exists()

    # the learner answers the exercise in their copy and saves
    mine = work / "chapters" / "02_math" / "01_a.md"
    answer = "# A\n\ndef f():\n    return 42  # my answer\n"
    mine.write_text(answer)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=learner, capture_output=True, text=True).stdout
    assert status == "", f"the learner's work shows up in git: {status}"

    # the course changes both chapters upstream; the learner pulls
    (upstream / "chapters" / "02_math" / "01_a.md").write_text("# A (revised)\n\ndef f():\n    raise NotImplementedError\n")
    (upstream / "chapters" / "02_math" / "02_b.md").write_text("# B (revised)\n")
    git(upstream, "commit", "-qam", "course v2")
    git(learner, "pull", "-q", "--ff-only")  # no conflict: the answers are not in tracked files

    assert workspace.plan(learner, work)["conflict"] == ["chapters/02_math/01_a.md"]
    capsys.readouterr()
    second = workspace.sync(learner, work)
    printed = capsys.readouterr().out
    assert second["updated"] == ["chapters/02_math/02_b.md"]
    assert second["conflict"] == ["chapters/02_math/01_a.md"]
    assert mine.read_text() == answer, "the learner's answer was overwritten"
    assert (work / "chapters" / "02_math" / "02_b.md").read_text() == "# B (revised)\n"
    offered = work / "chapters" / "02_math" / "01_a.course-update.md"
    assert offered.read_text().startswith("# A (revised)")
    assert "01_a.md changed in the course, and you have edited your copy" in printed
    assert "updated chapters/02_math/02_b.md" in printed

    # a third sync with nothing new upstream changes nothing and loses nothing
    third = workspace.sync(learner, work, quiet=True)
    assert third["updated"] == [] and third["new"] == [] and mine.read_text() == answer


def test_taking_the_new_version_wholesale(course):
    upstream, learner = course
    work = learner / "my_work"
    workspace.sync(learner, work, quiet=True)
    mine = work / "chapters" / "02_math" / "01_a.md"
    mine.write_text("edited\n")
    (upstream / "chapters" / "02_math" / "01_a.md").write_text("# A v2\n")
    git(upstream, "commit", "-qam", "v2")
    git(learner, "pull", "-q", "--ff-only")
    mine.unlink()  # what the message tells the learner to do
    assert workspace.sync(learner, work, quiet=True)["new"] == ["chapters/02_math/01_a.md"]
    assert mine.read_text() == "# A v2\n"


def test_the_workspace_of_this_course_pairs_outputs_outside_the_sources(tmp_path):
    work = tmp_path / "my_work"
    actions = workspace.sync(ROOT, work, quiet=True)
    assert "chapters/02_math/01_linear_algebra.md" in actions["new"]
    assert "chapters/01_overview/data/models.csv" in actions["new"]  # notebooks read data/ beside them
    config = (work / "jupytext.toml").read_text()
    assert "chapters///md:myst,outputs/chapters///ipynb" in config
