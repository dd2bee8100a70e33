"""The learner's workspace: a personal copy of the course in my_work/, which git ignores.

A learner writes answers into the notebooks. If those notebooks were the tracked
``chapters/*.md``, the next ``git pull`` of course updates would conflict with the answers.
So ``make lab`` first runs ``python tools/workspace.py sync``, and JupyterLab opens on the
copies in ``my_work/``:

- a chapter (or solution) not yet in ``my_work/`` is copied there;
- a chapter that changed upstream (after a ``git pull``) and that the learner has not
  edited is replaced by the new version;
- a chapter that changed upstream *and* that the learner edited is left alone; the new
  version is written beside it as ``NAME.course-update.md``, and the learner is told.
  (To take the new version wholesale: delete your copy and run ``make lab`` again.)

``python tools/workspace.py status`` lists what changed upstream without touching anything.
Which course version each copy came from is kept in ``my_work/.course_state.json``.
In ``my_work/``, jupytext keeps each notebook's outputs in ``my_work/outputs/`` (a paired
``.ipynb``), so they are there when the notebook is reopened; the ``.md`` stays the
learner's source.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE_DIRS = ("chapters", "solutions", "figures")  # figures: the images the chapters embed
SKIP_PARTS = {"_build", ".ipynb_checkpoints", "__pycache__"}
UPDATE_SUFFIX = ".course-update"
JUPYTEXT_CONFIG = """\
# Written by tools/workspace.py. Your copies of the chapters are MyST Markdown notebooks;
# their outputs are kept in outputs/ (a paired .ipynb), so they survive reopening.
formats = "chapters///md:myst,outputs/chapters///ipynb;solutions///md:myst,outputs/solutions///ipynb"
notebook_metadata_filter = "-jupytext.text_representation.jupytext_version"
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def course_files(root: Path) -> list[Path]:
    """The course's files under chapters/ and solutions/, relative to ``root``."""
    found = []
    for folder in COURSE_DIRS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if (path.is_file() and not SKIP_PARTS & set(rel.parts) and path.suffix != ".ipynb"
                    and UPDATE_SUFFIX not in path.name):
                found.append(rel)
    return found


def _update_path(dest: Path) -> Path:
    return dest.with_name(dest.stem + UPDATE_SUFFIX + dest.suffix)


def plan(root: Path = ROOT, work: Path | None = None) -> dict[str, list[str]]:
    """What ``sync`` would do: lists of relative paths under 'new', 'updated', 'conflict'."""
    work = work or root / "my_work"
    state = _load_state(work)
    out = {"new": [], "updated": [], "conflict": [], "unchanged": []}
    for rel in course_files(root):
        key, src, dest = rel.as_posix(), root / rel, work / rel
        course = _sha(src)
        if not dest.exists():
            out["new"].append(key)
        elif key not in state or state[key]["base"] == course:
            out["unchanged"].append(key)
        elif _sha(dest) == state[key]["base"]:
            out["updated"].append(key)
        else:
            out["conflict"].append(key)
    return out


def _load_state(work: Path) -> dict:
    path = work / ".course_state.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise SystemExit(f"{path} is damaged: delete it (your notebooks stay) and run again")


def sync(root: Path = ROOT, work: Path | None = None, quiet: bool = False) -> dict[str, list[str]]:
    """Bring ``my_work/`` up to date with the course without overwriting the learner's edits."""
    work = work or root / "my_work"
    work.mkdir(parents=True, exist_ok=True)
    state = _load_state(work)
    actions = plan(root, work)
    for key in actions["new"] + actions["updated"]:
        src, dest = root / key, work / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        state[key] = {"base": _sha(src)}
    for key in actions["conflict"]:
        src, dest = root / key, work / key
        shutil.copy2(src, _update_path(dest))
        state[key]["offered"] = _sha(src)
    for key in actions["unchanged"]:
        state.setdefault(key, {"base": _sha(root / key)})
    (work / ".course_state.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    (work / "jupytext.toml").write_text(JUPYTEXT_CONFIG)
    if not quiet:
        report(actions, work)
    return actions


def report(actions: dict[str, list[str]], work: Path) -> None:
    if actions["new"]:
        print(f"workspace: copied {len(actions['new'])} course file(s) into {work.name}/")
    for key in actions["updated"]:
        print(f"workspace: updated {key} (changed in the course; you had not edited it)")
    for key in actions["conflict"]:
        print(f"workspace: {key} changed in the course, and you have edited your copy: yours is kept; "
              f"the new version is {_update_path(Path(key)).as_posix()} "
              f"(delete your copy and run make lab again to take it wholesale)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["sync", "status"])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "sync":
        sync(root)
        return 0
    actions = plan(root)
    changed = actions["updated"] + actions["conflict"]
    for key in actions["updated"]:
        print(f"changed in the course, not edited by you (sync takes it): {key}")
    for key in actions["conflict"]:
        print(f"changed in the course AND edited by you: {key}")
    for key in actions["new"]:
        print(f"not in your workspace yet: {key}")
    if not changed and not actions["new"]:
        print("your workspace is up to date with the course")
    return 0


if __name__ == "__main__":
    sys.exit(main())
