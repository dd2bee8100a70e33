"""Make the figures in figures/ that the README and the book's start page embed.

    .venv/bin/python tools/make_figures.py           # (re)write them
    .venv/bin/python tools/make_figures.py --check   # exit 1 if a committed figure is stale

- ``figures/course_map.svg``: every section of the book as a box, in columns by chapter and
  coloured by part, with an arrow from each section to the sections that list it under
  **Prerequisites.** (read from the sections themselves, so the map cannot drift from them).

The SVG is written deterministically (text kept as text, no date, a fixed id salt), so the
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


def render() -> dict[Path, bytes]:
    # Matplotlib's defaults, whatever style the calling process set (a test worker that ran a
    # notebook helper may have set savefig.bbox = "tight"): the bytes depend on this code only.
    with plt.style.context("default"):
        return {FIGURES / "course_map.svg": course_map(sections())}


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
