"""Grade a class's notebooks with the course's own checkers: `make grade SUBMISSIONS=<folder>`.

<folder> holds one folder per student, each with that student's saved notebooks
(.ipynb, or the course's .md files), named as the course names them
(``01_linear_algebra.ipynb``) or titled as the section is ("# 2.1 ...").

For every notebook, in its own sandboxed process and scratch folder (see below):

1. **run** (tools/grade_worker.py run): execute the notebook in a fresh Jupyter kernel
   with a time limit, and save the objects the learner passed to ``check("2.1.1", x)``;
2. **check** (tools/grade_worker.py check, one fresh process per student): import the
   course's checkers before any learner code runs, fingerprint them, load each answer
   and run its checker; a checker that changed while an answer ran voids that answer.

The verdicts the notebook printed itself are never used: a notebook that redefines
``check()`` gets nothing from it, and is flagged when it claimed a pass that the course's
checker does not give. The learner's code is also read for the known ways of reaching
the checkers, the solutions, the gradebook or the network, and those lines are flagged
for the teacher.

The sandbox: resource limits (CPU time, address space, file size, no core files),
a wall-clock limit, a scratch folder with a pristine copy of utils/ and nothing else of
the course, and an audit hook (sitecustomize) that refuses to open the course
checkout (solutions/, .git, build/, ...), the submissions folder, the gradebook folder,
or to write outside the scratch folder, to open network sockets or to run shell
commands, and logs every refusal. Where Linux user namespaces are available (most
desktops, root in a container), the process also runs in its own network namespace
(no network at all), PID namespace (killed as a whole at the time limit) and mount
namespace in which the course checkout is read-only and solutions/, .git/, build/,
the submissions and the gradebook folder are replaced by empty read-only folders.
`python tools/grade.py --help` for the options; the teacher's guide says what this does
and does not protect against.

Writes <out>/gradebook.csv (one row per student and exercise), <out>/gradebook.sqlite
(the same rows in table ``grades``, one row per notebook in table ``runs``), and
<out>/feedback/<student>.md (the checkers' own messages).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
WORKER = Path(__file__).resolve().parent / "grade_worker.py"
NOTEBOOK_SUFFIXES = (".ipynb", ".md")
PASSED, FAILED, NOT_ATTEMPTED, TAMPERED = "passed", "failed", "not attempted", "tampered"

# --- the sandbox's audit hook: installed as sitecustomize in every sandboxed interpreter ---
GUARD = r'''
import json as _json, os as _os, sys as _sys
_cfg = _json.loads(_os.environ["GRADE_GUARD"])
_NOREAD, _ALLOW, _WRITE = _cfg["noread"], _cfg["allowread"], _cfg["write"]
_real, _dec, _sep = _os.path.realpath, _os.fsdecode, _os.sep
_log = open(_cfg["log"], "a", buffering=1)


def _under(p, roots):
    return any(p == r or p.startswith(r + _sep) for r in roots)


def _path(x):
    try:
        return _real(_dec(x))
    except Exception:
        return None


def _deny(what, target):
    _log.write(_json.dumps({"event": what, "target": str(target)[:300]}) + "\n")
    raise PermissionError(f"grading sandbox: {what} {target!s:.200} is not allowed")


def _read(what, x):
    p = _path(x) if not isinstance(x, int) else None
    if p and _under(p, _NOREAD) and not _under(p, _ALLOW):
        _deny(what, p)


def _write(what, x):
    p = _path(x) if not isinstance(x, int) else None
    if p and not _under(p, _WRITE):
        _deny(what, p)


_WFLAGS = _os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_APPEND | _os.O_TRUNC


def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if path is None or isinstance(path, int):
            return
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & _WFLAGS:
            _write("writing", path)
        _read("reading", path)
    elif event in ("os.listdir", "os.scandir"):
        if args and args[0] is not None:
            _read("listing", args[0])
    elif event in ("os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod", "os.chown",
                   "os.utime", "shutil.rmtree", "shutil.move"):
        _write(event, args[0])
    elif event in ("os.rename", "os.link", "os.symlink"):
        _read(event, args[0])
        _write(event, args[1])
    elif event == "os.system":
        _deny("running a shell command", args[0])
    elif event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
        argv = args[1] if len(args) > 1 else args[0]
        words = argv if isinstance(argv, (list, tuple)) else [argv]
        for w in words:
            for token in str(_dec(w) if isinstance(w, bytes) else w).split():
                if "/" in token:
                    p = _path(token)
                    if p and _under(p, _NOREAD) and not _under(p, _ALLOW):
                        _deny("a subprocess on", p)
    elif event in ("socket.connect", "socket.sendto", "socket.bind"):
        address = args[1] if len(args) > 1 else None
        if not isinstance(address, (str, bytes)):  # anything but a local (AF_UNIX) socket
            _deny("network access to", address)


_sys.addaudithook(_hook)
'''

# Lines of learner code (not in the course's own chapter) that reach for what a notebook
# has no business touching. Each is a flag for the teacher, not a verdict.
SUSPICIOUS = [
    (re.compile(r"\bEXERCISES\b|\bimport\s+utils\.checks\b|\butils\.checks\.|\bchecks\.(evaluate|check|Wrong)\b"
                r"|^check\s*=|\bdef\s+check\s*\(|\bevaluate\s*=|\bCheckResult\b"),
     "reaches into the course's checkers"),
    (re.compile(r"solutions"), "mentions the solutions folder"),
    (re.compile(r"gradebook|feedback/|submissions"), "reaches for the gradebook or other submissions"),
    (re.compile(r"\bsocket\b|urllib|\brequests\b|http\.client|urlopen|httpx"), "uses the network"),
    (re.compile(r"\bctypes\b|gc\.get_objects|sys\._getframe|\bf_back\b|\bf_globals\b|__builtins__"
                r"|\bbuiltins\.|sys\.modules|addaudithook|os\._exit|os\.write\(|__code__|\bsubprocess\b"
                r"|os\.system|setattr\(\s*(np|numpy|torch|utils)"),
     "reaches into the interpreter or the operating system"),
]


@dataclass
class Section:
    number: str  # "2.1"
    path: Path  # chapters/02_math/01_linear_algebra.md
    exercises: list[tuple[str, str]]  # (id, title) of the exercises with a checker

    @property
    def name(self) -> str:
        return f"{self.number} {self.path.stem}"


@dataclass
class Notebook:
    student: str
    file: Path
    section: Section | None = None
    problem: str = ""  # why it was not graded
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    outcome: str = ""
    errors: list[str] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)  # exercises the notebook itself printed as correct
    answers: Path | None = None
    ids: list[str] = field(default_factory=list)
    results: dict[str, dict] = field(default_factory=dict)


# --- the course's sections and exercises (read from the sources, no learner code) ---------

def exercise_titles() -> dict[str, str]:
    titles = {}
    for module in sorted((ROOT / "utils" / "checks").glob("*.py")):
        for m in re.finditer(r'@exercise\(\s*"([\d.]+)"\s*,\s*"((?:[^"\\]|\\.)*)"', module.read_text("utf-8")):
            titles[m.group(1)] = m.group(2)
    return titles


def course_sections() -> dict[str, Section]:
    titles = exercise_titles()
    sections = {}
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*/*.md")):
        text = path.read_text("utf-8")
        m = re.search(r"(?m)^# (\d+\.\d+) ", text)
        if not m or "kernelspec:" not in text[:2000]:
            continue
        ids = list(dict.fromkeys(re.findall(r'check\(\s*"(\d+\.\d+\.\d+)"', text)))
        sections[m.group(1)] = Section(m.group(1), path, [(i, titles.get(i, "")) for i in ids if i in titles])
    return sections


def read_notebook(path: Path):
    import jupytext
    import nbformat

    if path.suffix == ".md":
        return jupytext.read(path, fmt="md:myst")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def identify(nb, path: Path, sections: dict[str, Section]) -> Section | None:
    by_stem = {s.path.stem: s for s in sections.values()}
    if path.stem in by_stem:
        return by_stem[path.stem]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"(?m)^# (?:Solutions )?(\d+\.\d+)\b", cell.source)
            if m and m.group(1) in sections:
                return sections[m.group(1)]
    return None


def static_flags(nb, section: Section) -> list[str]:
    """Learner lines that the course's chapter does not have and that match a suspicious pattern."""
    course_lines = set()
    for text in (section.path.read_text("utf-8"),):
        course_lines |= {line.strip() for line in text.splitlines()}
    flags = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            s = line.strip()
            if not s or s.startswith("#") or s in course_lines or s == "from utils.checks import check":
                continue
            for pattern, why in SUSPICIOUS:
                if pattern.search(s):
                    flags.append(f"{why}: `{s[:120]}`")
                    break
    return flags


# --- the sandbox -------------------------------------------------------------------------

def namespaces_available() -> tuple[bool, bool]:
    """(Linux namespaces can be made here, the checkout can be remounted read-only in them)."""
    if not shutil.which("unshare"):
        return False, False
    script = f"mount --bind '{ROOT}' '{ROOT}' && mount -o remount,bind,ro '{ROOT}' && echo read-only"
    try:
        run = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork",
                              "--propagation", "private", "sh", "-c", script], capture_output=True, text=True,
                             timeout=20)
        if run.returncode == 0:
            return True, "read-only" in run.stdout
        return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork",
                               "true"], capture_output=True, timeout=20).returncode == 0, False
    except (OSError, subprocess.SubprocessError):
        return False, False


@dataclass
class Sandbox:
    hidden: list[Path]  # never readable by learner code; replaced by empty folders in the mount namespace
    noread: list[Path]  # also refused by the audit hook (the checkout: its .venv and .cache stay readable)
    timeout: int
    memory_mb: int
    use_namespaces: bool

    def limits(self):
        cpu = self.timeout + 60
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024 * 1024,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def prepare(self, scratch: Path) -> None:
        """A pristine copy of utils/ and the guard; nothing else of the course."""
        shutil.copytree(ROOT / "utils", scratch / "utils", ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
        shutil.copy2(WORKER, scratch / "grade_worker.py")
        (scratch / "_guard").mkdir()
        (scratch / "_guard" / "sitecustomize.py").write_text(GUARD)
        for sub in ("tmp", ".mpl", ".ipython", ".jupyter", ".rt", ".keras"):
            (scratch / sub).mkdir()
        for font_cache in (ROOT / "build" / "mplconfig").glob("fontlist*.json"):
            shutil.copy2(font_cache, scratch / ".mpl")

    def env(self, scratch: Path) -> dict:
        home = Path.home()
        guard = {"noread": [str(p) for p in [*self.hidden, *self.noread]], "write": [str(scratch), "/dev/null", "/dev/shm"],
                 "allowread": [str(scratch), sys.prefix, str(ROOT / ".cache")], "log": str(scratch / "guard.log")}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(scratch),
            "TMPDIR": str(scratch / "tmp"), "PYTHONPATH": f"{scratch / '_guard'}:{scratch}",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLCONFIGDIR": str(scratch / ".mpl"),
            "IPYTHONDIR": str(scratch / ".ipython"), "JUPYTER_CONFIG_DIR": str(scratch / ".jupyter"),
            "JUPYTER_RUNTIME_DIR": str(scratch / ".rt"), "JUPYTER_PLATFORM_DIRS": "1",
            "KERAS_BACKEND": "torch", "KERAS_HOME": str(scratch / ".keras"),
            # models and data sets the course installed (read only: writes outside scratch are refused)
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(home / ".cache")),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": "",
            "GRADE_GUARD": json.dumps(guard),
        }
        for name in ("HF_HOME", "TORCH_HOME", "SKLEARN_DATA", "NLTK_DATA"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def command(self, argv: list[str]) -> list[str]:
        if not self.use_namespaces:
            return argv
        mounts = []
        for p in self.hidden:
            if p.is_dir():
                mounts.append(f"mount -t tmpfs -o ro,size=4k,mode=555 grading-hidden '{p}'")
        # The checkout read-only (kept if the kernel refuses the remount), then the hidden folders.
        script = (f"mount --bind '{ROOT}' '{ROOT}' && (mount -o remount,bind,ro '{ROOT}' 2>/dev/null || true); "
                  + " && ".join(mounts or ["true"]) + ' && exec "$@"')
        return ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
                "--propagation", "private", "sh", "-c", script, "sandbox", *argv]

    def run(self, argv: list[str], scratch: Path, stdin: str = "", wall: float | None = None):
        wall = wall or self.timeout + 30
        t0 = time.perf_counter()
        proc = subprocess.Popen(self.command(argv), cwd=scratch, env=self.env(scratch), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=self.limits, start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=wall)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            out, err = proc.communicate()
            timed_out = True
        return proc.returncode, out, err, time.perf_counter() - t0, timed_out


def kill_tree(proc: subprocess.Popen) -> None:
    """The sandboxed process and everything it started (a kernel may sit in its own session)."""
    try:
        import psutil

        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:
        children = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for child in children:
        try:
            child.kill()
        except Exception:
            pass


def refusals(scratch: Path) -> list[str]:
    log = scratch / "guard.log"
    if not log.exists():
        return []
    seen = []
    for line in log.read_text(errors="replace").splitlines()[:50]:
        try:
            rec = json.loads(line)
            text = f"the sandbox refused {rec['event']} `{rec['target']}`"
        except (ValueError, KeyError, TypeError):
            continue
        if text not in seen:
            seen.append(text)
    return seen


# --- grading -------------------------------------------------------------------------------

def run_notebook(nb_obj, item: Notebook, box: Sandbox, base: Path, store: Path) -> None:
    import nbformat

    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    box.prepare(scratch)
    nbformat.write(nb_obj, scratch / "notebook.ipynb")
    rc, out, err, seconds, timed_out = box.run(
        [sys.executable, "grade_worker.py", "run", "notebook.ipynb", str(box.timeout)], scratch)
    item.seconds = seconds
    item.flags += refusals(scratch)
    status = {}
    if (scratch / "run.json").exists():
        try:
            status = json.loads((scratch / "run.json").read_text())
        except ValueError:
            status = {}
    if timed_out:
        item.outcome = f"stopped: it ran past the time limit of {box.timeout} s (and 30 s to start)"
    elif status.get("error"):
        error = status["error"]
        if "CellTimeoutError" in error or "timed out" in error.lower():
            item.outcome = f"stopped: it ran past the time limit of {box.timeout} s"
        elif "DeadKernel" in error:
            item.outcome = "stopped: the kernel died (over the memory limit of " \
                           f"{box.memory_mb} MB, or it crashed)"
        else:
            item.outcome = f"stopped: {error}"
    elif rc != 0 or not status:
        tail = (err or out).strip().splitlines()[-1:] or ["no message"]
        item.outcome = f"the notebook could not be run (exit {rc}): {tail[0][:200]}"
    else:
        item.outcome = "ran to the end"
    if (scratch / "executed.ipynb").exists():
        try:
            executed = nbformat.read(scratch / "executed.ipynb", as_version=4)
            for cell in executed.cells:
                for o in cell.get("outputs", []):
                    if o.get("output_type") == "error":
                        item.errors.append(f"{o.get('ename')}: {str(o.get('evalue'))[:160]}")
                    text = o.get("text", "") if o.get("output_type") == "stream" else ""
                    item.claimed |= set(re.findall(r"✅ Exercise (\d+\.\d+\.\d+)", text))
        except Exception:
            pass
    if (scratch / "answers.pkl").exists() and not timed_out:
        item.answers = store / f"answers-{secrets.token_hex(6)}.pkl"
        shutil.move(scratch / "answers.pkl", item.answers)
    shutil.rmtree(scratch, ignore_errors=True)


def check_student(items: list[Notebook], box: Sandbox, base: Path) -> None:
    todo = [i for i in items if i.answers]
    if not todo:
        return
    scratch = Path(tempfile.mkdtemp(prefix="check-", dir=base))
    box.prepare(scratch)
    spec = []
    for n, item in enumerate(todo):
        target = scratch / f"answers-{n}.pkl"
        shutil.copy2(item.answers, target)
        spec.append({"key": n, "answers": str(target), "ids": item.ids})
    (scratch / "spec.json").write_text(json.dumps(spec))
    nonce = secrets.token_hex(16)
    rc, out, err, seconds, timed_out = box.run([sys.executable, "grade_worker.py", "check", "spec.json"], scratch,
                                               stdin=nonce + "\n", wall=box.timeout + 60)
    ready = False
    for line in out.splitlines():
        if not line.startswith(nonce + " "):
            continue
        try:
            rec = json.loads(line[len(nonce) + 1:])
            if "ready" in rec:
                ready = True
                continue
            item = todo[int(rec["key"])]
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if "error" in rec:
            item.flags.append(str(rec["error"])[:200])
        elif rec.get("id") in item.ids and rec.get("status") in (PASSED, FAILED, NOT_ATTEMPTED, TAMPERED):
            item.results[rec["id"]] = {"status": rec["status"], "message": str(rec.get("message", ""))[:2000]}
    if not ready:  # no learner code had run yet: the course's checkers themselves did not import
        tail = "\n".join((err or out).strip().splitlines()[-5:])
        raise SystemExit(f"grade: the course's checkers could not be imported in the sandbox (exit {rc}"
                         f"{', over the time limit' if timed_out else ''}); "
                         f"fix the course (run `make test-fast`), then grade again:\n{tail}")
    refused = refusals(scratch)
    for item in todo:
        item.flags += [r + " (while checking)" for r in refused]
        missing = [i for i in item.ids if i not in item.results]
        for ex_id in missing:
            why = "the checking process stopped at its time limit" if timed_out else \
                f"the checking process stopped (exit {rc}) before this exercise"
            item.results[ex_id] = {"status": FAILED, "message": why + "; its answer gets no marks"}
        if missing:
            item.flags.append(f"checking stopped before {', '.join(missing)} "
                              f"({'time limit' if timed_out else f'exit {rc}'})")
        for ex_id, res in item.results.items():
            if res["status"] == TAMPERED:
                item.flags.append(f"{ex_id}: {res['message']}")
            if ex_id in item.claimed and res["status"] not in (PASSED, TAMPERED):
                item.flags.append(f"{ex_id}: the notebook printed “correct”, the course's checker says "
                                  f"{res['status']} (was check() replaced?)")
    shutil.rmtree(scratch, ignore_errors=True)


def grade(submissions: Path, out: Path, timeout: int = 300, memory_mb: int = 6144,
          namespaces: bool | None = None, log=print) -> list[dict]:
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.is_dir():
        raise SystemExit(f"grade: {submissions} is not a folder (give SUBMISSIONS=<folder with one folder per "
                         "student>)")
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise SystemExit(f"grade: {submissions} has no student folders (one folder per student, each "
                         "holding that student's notebooks)")
    if out == submissions or out.is_relative_to(submissions):
        raise SystemExit("grade: write the gradebook outside the submissions folder (--out)")
    sections = course_sections()
    use_ns, read_only = namespaces_available() if namespaces in (None, True) else (False, False)
    if namespaces and not use_ns:
        raise SystemExit("grade: Linux user namespaces are not available here (unshare failed); "
                         "run without --namespaces to grade with the audit hook and resource limits only")
    out.mkdir(parents=True, exist_ok=True)
    # All grading runs (also concurrent `make grade`s) keep their scratch folders under one parent that
    # learner code may not read, except its own scratch folder.
    parent = Path(tempfile.gettempdir()).resolve() / "course-grading"
    parent.mkdir(mode=0o700, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="run-", dir=parent))  # scratch folders, one per process
    store = Path(tempfile.mkdtemp(prefix="answers-", dir=parent))  # the answers, between the two steps
    hidden = [p for p in (ROOT / "solutions", ROOT / ".git", ROOT / "build", ROOT / "tests", submissions, out, store)
              if p.is_dir()]
    box = Sandbox(hidden=hidden, noread=[ROOT, parent], timeout=timeout, memory_mb=memory_mb,
                  use_namespaces=use_ns)
    mode = (f"Linux namespaces (no network, {'read-only course' if read_only else 'course NOT read-only'}, "
            "hidden solutions) + audit hook" if use_ns else
            "audit hook and resource limits only (no user namespaces here: see the teacher's guide)")
    log(f"grade: {len(students)} students in {submissions}; isolation: {mode}")
    t_start = time.perf_counter()
    notebooks: dict[str, list[Notebook]] = {}
    seen_sections: dict[str, Section] = {}
    try:
        for student_dir in students:
            student = student_dir.name
            items = notebooks.setdefault(student, [])
            for f in sorted(student_dir.rglob("*")):
                if not f.is_file() or f.name.startswith("."):
                    continue
                item = Notebook(student, f.relative_to(student_dir))
                items.append(item)
                if f.suffix not in NOTEBOOK_SUFFIXES:
                    item.problem = "not a notebook (.ipynb or .md): not graded"
                    continue
                try:
                    nb_obj = read_notebook(f)
                except Exception as err:
                    item.problem = f"does not open as a notebook: {type(err).__name__}: {str(err)[:200]}"
                    continue
                item.section = identify(nb_obj, f, sections)
                if item.section is None:
                    item.problem = "not a section of the course (name it as the course does, e.g. " \
                                   "01_linear_algebra.ipynb): not graded"
                    continue
                if any(o.section is item.section and o is not item and not o.problem for o in items):
                    item.problem = f"a second notebook for section {item.section.number}: only the first is graded"
                    item.section = None
                    continue
                seen_sections[item.section.number] = item.section
                item.ids = [i for i, _ in item.section.exercises]
                item.flags += static_flags(nb_obj, item.section)
                run_notebook(nb_obj, item, box, base, store)
                log(f"grade: {student}/{item.file}: {item.outcome} ({item.seconds:.1f} s)")
            check_student(items, box, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
    rows = gradebook_rows(notebooks, seen_sections)
    write_outputs(out, rows, notebooks, seen_sections, mode)
    seconds = time.perf_counter() - t_start
    graded = [i for items in notebooks.values() for i in items if i.section]
    log(f"grade: {len(graded)} notebooks in {seconds:.1f} s ({seconds / max(1, len(graded)):.1f} s per notebook); "
        f"{sum(1 for r in rows if r['flagged'])} flagged rows -> {out}/gradebook.csv, feedback/")
    return rows


def gradebook_rows(notebooks: dict[str, list[Notebook]], sections: dict[str, Section]) -> list[dict]:
    rows = []
    for student, items in notebooks.items():
        for number, section in sorted(sections.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
            item = next((i for i in items if i.section is section), None)
            for ex_id, title in section.exercises:
                if item is None:
                    status, message = "not submitted", "no notebook for this section"
                elif ex_id in item.results:
                    status, message = item.results[ex_id]["status"], item.results[ex_id]["message"]
                else:
                    status = NOT_ATTEMPTED
                    message = f"the notebook did not finish ({item.outcome}), so this answer was not checked"
                rows.append({"student": student, "section": number, "exercise": ex_id, "title": title,
                             "status": status, "points": 1 if status == PASSED else 0, "max_points": 1,
                             "flagged": "yes" if item is not None and item.flags else "",
                             "file": str(item.file) if item else "", "message": message})
    return rows


def write_outputs(out: Path, rows, notebooks, sections, mode: str) -> None:
    fields = ["student", "section", "exercise", "title", "status", "points", "max_points", "flagged", "file",
              "message"]
    tmp = out / "gradebook.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(out / "gradebook.csv")
    db = out / "gradebook.sqlite"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE grades (student TEXT, section TEXT, exercise TEXT, title TEXT, status TEXT, "
                    "points INTEGER, max_points INTEGER, flagged TEXT, file TEXT, message TEXT, "
                    "PRIMARY KEY (student, exercise))")
        con.executemany("INSERT INTO grades VALUES (:student, :section, :exercise, :title, :status, :points, "
                        ":max_points, :flagged, :file, :message)", rows)
        con.execute("CREATE TABLE runs (student TEXT, file TEXT, section TEXT, seconds REAL, outcome TEXT, "
                    "flags TEXT)")
        con.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", [
            (i.student, str(i.file), i.section.number if i.section else None, round(i.seconds, 2),
             i.problem or i.outcome, "\n".join(i.flags)) for items in notebooks.values() for i in items])
    con.close()
    fb = out / "feedback"
    fb.mkdir(exist_ok=True)
    icons = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳", TAMPERED: "🚩", "not submitted": "—"}
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    for student, items in notebooks.items():
        mine = [r for r in rows if r["student"] == student]
        lines = [f"# Feedback for {student}", "",
                 f"Graded {stamp} by the course's checkers: {sum(r['points'] for r in mine)} of "
                 f"{sum(r['max_points'] for r in mine)} exercises correct.", ""]
        for item in items:
            if item.problem:
                lines += [f"- `{item.file}`: {item.problem}", ""]
        for number, section in sorted(sections.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
            item = next((i for i in items if i.section is section), None)
            lines.append(f"## {number} ({section.path.stem})")
            lines.append("")
            if item is None:
                lines += ["Not submitted.", ""]
                continue
            lines.append(f"`{item.file}`: {item.outcome} in {item.seconds:.1f} s.")
            if item.errors:
                lines.append(f"Cells that raised an error: {len(item.errors)} (first: {item.errors[0]}).")
            lines.append("")
            for r in (r for r in mine if r["section"] == number):
                lines.append(f"- {icons.get(r['status'], '')} **{r['exercise']}** {r['title']}: "
                             f"{r['status']} — {r['message']}")
            if item.flags:
                lines += ["", "**Flagged for the teacher** (these get no marks; the teacher reads the notebook):"]
                lines += [f"- {f}" for f in dict.fromkeys(item.flags)]
            lines.append("")
        lines.append(f"_Isolation: {mode}._")
        safe = re.sub(r"[^\w.-]", "_", student)
        (fb / f"{safe}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Grade a class's notebooks with the course's checkers.")
    ap.add_argument("submissions", type=Path, help="a folder with one folder per student")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "grades",
                    help="where the gradebook and feedback go (default build/grades)")
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds a notebook may run (30 s more to start its kernel); default 300")
    ap.add_argument("--memory-mb", type=int, default=6144, help="address-space limit per process; default 6144")
    ap.add_argument("--no-namespaces", action="store_true", help="do not use Linux namespaces even if available")
    args = ap.parse_args(argv)
    grade(args.submissions, args.out, args.timeout, args.memory_mb, False if args.no_namespaces else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
