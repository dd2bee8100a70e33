"""Make the figures in figures/ that the README and the book's start page embed.

    .venv/bin/python tools/make_figures.py           # (re)write them
    .venv/bin/python tools/make_figures.py --check   # exit 1 if a committed figure is stale

- ``figures/course_map.svg``: every section of the book as a box, in columns by chapter and
  coloured by part, with an arrow from each section to the sections that list it under
  **Prerequisites.** (read from the sections themselves, so the map cannot drift from them).

- ``figures/learning_path.svg``: the course on one page for the README: one box per chapter
  (its title, sections and exercises), placed left to right by how deep it sits in the
  prerequisites, with an arrow from chapter A to chapter B where a section of B lists a section
  of A under **Prerequisites.** and A comes before B (so the path, too, is read from the sections).

The SVGs are written deterministically (text kept as text, no date, a fixed id salt), so the
check can compare the committed file with a fresh rendering byte for byte.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
FIGURES = ROOT / "figures"
PART_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]  # colour-blind safe (Okabe-Ito)
PREREQ = re.compile(r"\*\*Prerequisites\.\*\*(.*?)(?:\n\s*\n)", re.S)
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def sections() -> list[dict]:
    """The numbered sections of the book in course order: doc, number, title, part, prerequisites."""
    toc = yaml.safe_load((CHAPTERS / "_toc.yml").read_text(encoding="utf-8"))
    out = []
    for part_index, part in enumerate(toc["parts"]):
        docs = []
        for chapter in part["chapters"]:
            docs.append(chapter["file"])
            docs += [s["file"] for s in chapter.get("sections", [])]
        for doc in docs:
            path = CHAPTERS / f"{doc}.md"
            text = path.read_text(encoding="utf-8")
            title = re.search(r"^# (\d+)\.(\d+) (.+)$", text, re.M)
            if not title:
                continue  # an unnumbered page (the appendix)
            prereq = PREREQ.search(text)
            links = LINK.findall(prereq.group(1)) if prereq else []
            needs = sorted({(path.parent / link).resolve().relative_to(CHAPTERS.resolve()).with_suffix("").as_posix()
                            for link in links})
            out.append({"doc": doc, "chapter": int(title.group(1)), "section": int(title.group(2)),
                        "title": title.group(3), "part": part_index, "part_name": part["caption"],
                        "needs": needs})
    return out


def short(title: str, width: int = 17, lines: int = 2) -> str:
    """A section title for a box: the part before the colon, wrapped in at most two lines."""
    import textwrap

    wrapped = textwrap.wrap(title.split(":")[0].strip(), width)
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def course_map(secs: list[dict]) -> bytes:
    chapters = sorted({s["chapter"] for s in secs})
    rows = max(sum(1 for s in secs if s["chapter"] == c) for c in chapters)
    width, height = 12.0, 1.2 + 0.75 * rows
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(-0.5, len(chapters) - 0.3)  # room for the arrows within the last column
    ax.set_ylim(rows - 0.4, -1.1)
    ax.axis("off")
    where = {}
    for column, chapter in enumerate(chapters):
        mine = [s for s in secs if s["chapter"] == chapter]
        ax.text(column, -0.8, f"Chapter {chapter}", ha="center", va="center", fontsize=9, weight="bold",
                color=PART_COLOURS[mine[0]["part"] % len(PART_COLOURS)])
        for row, s in enumerate(mine):
            where[s["doc"]] = (column, row)
            colour = PART_COLOURS[s["part"] % len(PART_COLOURS)]
            ax.add_patch(FancyBboxPatch((column - 0.46, row - 0.36), 0.92, 0.72, boxstyle="round,pad=0.0,rounding_size=0.08",
                                        fc=colour, ec="none", alpha=0.16, zorder=2))
            ax.text(column, row, f"{s['chapter']}.{s['section']}\n{short(s['title'])}", ha="center",
                    va="center", fontsize=6.6, zorder=3, linespacing=1.15)
    for s in secs:
        for need in s["needs"]:
            if need not in where or need == s["doc"]:
                continue
            (x0, y0), (x1, y1) = where[need], where[s["doc"]]
            if x0 == x1:
                start, end, rad = (x0 + 0.46, y0), (x1 + 0.46, y1), -0.5
            else:
                start, end, rad = (x0 + 0.46, y0), (x1 - 0.46, y1), 0.12
            ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                         mutation_scale=6, lw=0.5, color="0.45", alpha=0.55, zorder=1))
    parts = []
    for s in secs:
        if s["part_name"] not in [p[0] for p in parts]:
            parts.append((s["part_name"], PART_COLOURS[s["part"] % len(PART_COLOURS)]))
    handles = [plt.Rectangle((0, 0), 1, 1, fc=c, alpha=0.35, ec="none") for _, c in parts]
    ax.legend(handles, [p for p, _ in parts], loc="lower left", fontsize=7.5, frameon=False)
    n_edges = sum(1 for s in secs for n in s["needs"] if n in where and n != s["doc"])
    ax.set_title(f"The course: {len(secs)} sections in {len(chapters)} chapters; an arrow points from a "
                 f"section to one that lists it as a prerequisite ({n_edges} arrows)", fontsize=9)
    fig.tight_layout()
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "course-map"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue().encode("utf-8")


def chapters_of(secs: list[dict]) -> list[dict]:
    """One entry per chapter: number, title (its landing page's heading), part, sections,
    exercises, and the chapters its sections build on."""
    out = []
    for number in sorted({s["chapter"] for s in secs}):
        mine = [s for s in secs if s["chapter"] == number]
        folder = CHAPTERS / Path(mine[0]["doc"]).parent
        heading = re.search(r"^# \d+ (.+)$", (folder / "index.md").read_text(encoding="utf-8"), re.M)
        exercises = sum(len(set(re.findall(r"\*\*Exercise (\d+\.\d+\.\d+)",
                                            (CHAPTERS / f"{s['doc']}.md").read_text(encoding="utf-8"))))
                        for s in mine)
        chapter_of = {s["doc"]: s["chapter"] for s in secs}
        # only earlier chapters: a section that points ahead (1.1 to 2.1 for matrix shapes, 3.4 to
        # 4.1 for PyTorch) names a help, not a step of the path; the course map shows those too
        needs = sorted({chapter_of[n] for s in mine for n in s["needs"] if chapter_of.get(n, number) < number})
        out.append({"chapter": number, "title": heading.group(1) if heading else f"Chapter {number}",
                    "part": mine[0]["part"], "part_name": mine[0]["part_name"], "sections": len(mine),
                    "exercises": exercises, "needs": needs})
    return out


def learning_path(secs: list[dict]) -> bytes:
    import textwrap

    chs = chapters_of(secs)
    # the direct steps only: drop A -> C when C also builds on a B that builds on A
    needs = {c["chapter"]: set(c["needs"]) for c in chs}

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, seen + (n,))) for n in needs[a])

    direct = {c: {n for n in ns if not any(reaches(m, n) for m in ns - {n})} for c, ns in needs.items()}
    level = {}
    for c in chs:  # chapters come in course order, and a chapter only builds on earlier ones
        level[c["chapter"]] = 1 + max((level[n] for n in c["needs"] if n in level), default=-1)
    columns = max(level.values()) + 1
    rows = max(sum(1 for v in level.values() if v == col) for col in range(columns))
    fig, ax = plt.subplots(figsize=(12.0, 1.4 + 1.25 * rows))
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(rows - 0.35, -0.95)
    ax.axis("off")
    where = {}
    for col in range(columns):
        mine = [c for c in chs if level[c["chapter"]] == col]
        offset = (rows - len(mine)) / 2
        for i, c in enumerate(mine):
            x, y = col, offset + i
            where[c["chapter"]] = (x, y)
            colour = PART_COLOURS[c["part"] % len(PART_COLOURS)]
            ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.36), 0.84, 0.72, boxstyle="round,pad=0.0,rounding_size=0.06",
                                        fc=colour, ec=colour, alpha=0.18, zorder=2))
            title = "\n".join(textwrap.wrap(f"{c['chapter']}  {c['title']}", 24)[:2])
            ax.text(x, y - 0.1, title, ha="center", va="bottom", fontsize=8.5,
                    weight="bold", zorder=3, linespacing=1.1)
            ax.text(x, y + 0.22, f"{c['sections']} sections · {c['exercises']} exercises", ha="center",
                    va="center", fontsize=7.5, color="0.25", zorder=3)
    for c in chs:
        for n in sorted(direct[c["chapter"]]):
            (x0, y0), (x1, y1) = where[n], where[c["chapter"]]
            rad = 0.0 if y0 == y1 or x1 - x0 == 1 else (-0.25 if y1 < y0 else 0.25)
            ax.add_patch(FancyArrowPatch((x0 + 0.42, y0), (x1 - 0.42, y1), connectionstyle=f"arc3,rad={rad}",
                                         arrowstyle="-|>", mutation_scale=8, lw=0.8, color="0.4", alpha=0.6,
                                         zorder=1))
    parts = []
    for c in chs:
        if c["part_name"] not in [p[0] for p in parts]:
            parts.append((c["part_name"], PART_COLOURS[c["part"] % len(PART_COLOURS)]))
    handles = [plt.Rectangle((0, 0), 1, 1, fc=col, alpha=0.35, ec="none") for _, col in parts]
    ax.legend(handles, [p for p, _ in parts], loc="lower center", ncol=len(parts), fontsize=8, frameon=False,
              bbox_to_anchor=(0.5, -0.02))
    n_sections = sum(c["sections"] for c in chs)
    n_exercises = sum(c["exercises"] for c in chs)
    ax.set_title(f"Learning path: {len(chs)} chapters, {n_sections} sections, {n_exercises} exercises; "
                 "an arrow: the later chapter's sections list the earlier one's as prerequisites (direct steps only)", fontsize=9.5)
    fig.tight_layout()
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "learning-path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue().encode("utf-8")


def render() -> dict[Path, bytes]:
    # Matplotlib's defaults, whatever style the calling process set (a test worker that ran a
    # notebook helper may have set savefig.bbox = "tight"): the bytes depend on this code only.
    with plt.style.context("default"):
        secs = sections()
        return {FIGURES / "course_map.svg": course_map(secs), FIGURES / "learning_path.svg": learning_path(secs)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the figures are current")
    args = parser.parse_args(argv)
    stale = []
    for path, data in render().items():
        if not path.exists() or path.read_bytes() != data:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
