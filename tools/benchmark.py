"""Execute every notebook serially, as a learner would (all cores, one notebook at a
time), and write a per-notebook timing table to build/benchmark.md.

A report, not a timed test: it never fails because a notebook is slow, but marks
each one against its budget from COURSE_DESIGN.md.

    make benchmark                          # every chapter and solution
    .venv/bin/python tools/benchmark.py chapters/02_math   # a subset
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMINGS = ROOT / "build" / "timings"
REPORT = ROOT / "build" / "benchmark.md"

# Seconds per section on a 2-core CPU (COURSE_DESIGN.md, "Budget").
BUDGETS = {"01_overview": 30, "02_math": 30, "03_algorithms": 30, "04_frameworks": 60,
           "05_vision": 90, "06_nlp": 90, "07_recommendation": 90, "08_industry": 90, "09_future": 90}
SPECIAL = {"03_algorithms/02_cnn.md": 60}
TOTAL_BUDGET = 30 * 60


def budget(notebook: str) -> int:
    rel = notebook.split("/", 1)[1]
    return SPECIAL.get(rel, BUDGETS.get(rel.split("/", 1)[0], 30))


def main(paths: list[str]) -> int:
    paths = paths or ["chapters", "solutions"]
    for old in TIMINGS.glob("*.json"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MPLBACKEND")}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "--nbval-lax", *paths],
        cwd=ROOT, env=env,
    )
    wall = time.perf_counter() - start
    rows = sorted((json.loads(p.read_text()) for p in TIMINGS.glob("*.json")), key=lambda r: r["notebook"])
    total = sum(r["seconds"] for r in rows)
    lines = [
        "# Notebook execution times",
        "",
        f"Serial run, one fresh kernel per notebook, all cores ({os.cpu_count()} on this "
        f"{platform.machine()} machine), Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| notebook | seconds | budget | ok |",
        "|---|---:|---:|:-:|",
    ]
    for r in rows:
        b = budget(r["notebook"])
        ok = "✅" if r["seconds"] <= b and r["passed"] else ("❌ failed" if not r["passed"] else "❌ slow")
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {b} | {ok} |")
    lines += ["", f"**Total: {total:.0f} s** for {len(rows)} notebooks (course budget "
              f"{TOTAL_BUDGET // 60} min); pytest wall time {wall:.0f} s.", ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"written to {REPORT.relative_to(ROOT)}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
