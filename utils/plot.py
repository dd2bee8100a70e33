"""The course's one matplotlib style, and small figure helpers.

Call :func:`use_course_style` once at the top of a notebook. Figures then share
size, fonts and colours across every chapter, in JupyterLab and in the book.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

#: Colour cycle (colour-blind friendly, Okabe–Ito) used by every figure.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def use_course_style() -> None:
    """Apply the course style to matplotlib (safe to call more than once)."""
    mpl.rcParams.update(STYLE)


def fig_to_png(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes (used by the widgets' static figures)."""
    if not hasattr(fig, "savefig"):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def save_figure(fig, name: str, folder: str | Path | None = None) -> Path:
    """Save ``fig`` as ``figures/<name>.png`` (the folder the README and prose embed).

    ``folder`` defaults to the repository's ``figures/`` directory.
    """
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain file name without folders, got {name!r}")
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent.parent / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name if name.endswith(".png") else name + ".png")
    fig.savefig(path)
    return path


def close(fig) -> None:
    """Close a figure that has been shown or saved (frees memory in long notebooks)."""
    plt.close(fig)
