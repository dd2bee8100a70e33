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


# Fonts with Chinese glyphs, in order of preference: Debian's fonts-wqy-zenhei (installed by
# `make setup` together with the browser), Noto CJK, and the usual Windows/macOS fonts.
CJK_FONTS = {
    "WenQuanYi Zen Hei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "Noto Sans CJK SC": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "SimHei": None,
    "Microsoft YaHei": None,
    "PingFang SC": None,
    "Arial Unicode MS": None,
}


def _cjk_family() -> list[str]:
    """Names of installed fonts with Chinese glyphs, registered with matplotlib if needed.

    DejaVu Sans (the default) has no Chinese glyphs; matplotlib falls back glyph by
    glyph along ``font.family``, so the course puts a CJK font second. matplotlib's font
    cache may predate the font's installation, so a known file is added explicitly; it
    is registered as both regular (400) and bold (700), because WenQuanYi's only face is
    "medium" (500) and matplotlib would otherwise log a warning for every title.
    """
    import dataclasses
    import os

    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {f.name for f in manager.ttflist}
    found = []
    for name, path in CJK_FONTS.items():
        if name not in known and path and os.path.exists(path):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError):  # an unreadable font file: skip it
                continue
            known.add(name)
        if name not in known:
            continue
        # Whether the font came from matplotlib's cache or was added just now, make sure
        # it has a regular and a bold face, or matplotlib warns "findfont: Failed to find
        # font weight normal" above every figure.
        faces = [f for f in manager.ttflist if f.name == name]
        weights = {f.weight for f in faces}
        extra = [dataclasses.replace(faces[0], weight=w) for w in (400, 700) if w not in weights]
        if extra:
            manager.ttflist = manager.ttflist + extra
            font_manager._get_font.cache_clear()
            manager._findfont_cached.cache_clear()
        found.append(name)
    return found


def use_course_style() -> None:
    """Apply the course style to matplotlib (safe to call more than once)."""
    mpl.rcParams.update(STYLE)
    mpl.rcParams["font.family"] = ["DejaVu Sans", *_cjk_family()]


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
