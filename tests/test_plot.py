import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

from utils import plot


def test_style_applies_and_png_renders(tmp_path):
    plot.use_course_style()
    assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == plot.COLORS[0]
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert plot.fig_to_png(fig)[:4] == b"\x89PNG"
    path = plot.save_figure(fig, "demo", folder=tmp_path)
    assert path == tmp_path / "demo.png" and path.stat().st_size > 1000
    plot.close(fig)


def test_bad_inputs():
    with pytest.raises(TypeError, match="expected a matplotlib Figure"):
        plot.fig_to_png("not a figure")
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="plain file name"):
        plot.save_figure(fig, "../escape")
    with pytest.raises(ValueError, match="plain file name"):
        plot.save_figure(fig, "")


def test_chinese_text_renders_without_missing_glyphs(tmp_path):
    import os
    import warnings

    import matplotlib.pyplot as plt

    from utils import plot

    plot.use_course_style()
    family = plt.rcParams["font.family"]
    assert family[0] == "DejaVu Sans"
    if not os.path.exists(plot.CJK_FONTS["WenQuanYi Zen Hei"]):
        # without a CJK font installed the style still works (Latin only); `make setup` installs one
        assert all(name in plot.CJK_FONTS for name in family[1:])
        return
    assert "WenQuanYi Zen Hei" in family
    fig, ax = plt.subplots()
    ax.set_title("情感分析 sentiment")
    ax.set_xlabel("正面 / 负面")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        fig.savefig(tmp_path / "zh.png")
    plt.close(fig)


def test_no_findfont_warning_whether_or_not_the_font_cache_knows_the_cjk_font(tmp_path):
    """The first process builds matplotlib's font cache (which then holds the CJK font with
    its single 'medium' face); the second starts from that cache. Neither may log a
    findfont warning above a figure with regular and bold Chinese text."""
    import os
    import subprocess
    import sys

    if not plot._cjk_family():
        pytest.skip("no CJK font installed (make setup installs fonts-wqy-zenhei)")
    script = (
        "import logging; logging.basicConfig()\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "from utils.plot import use_course_style; use_course_style()\n"
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(); ax.set_title('损失 loss', fontweight='bold'); ax.set_xlabel('步数')\n"
        f"fig.savefig({str(tmp_path / 'f.png')!r})\n"
    )
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mplconfig")}
    for run in ("fresh cache", "cache from the first run"):
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "findfont" not in proc.stderr, f"{run}: {proc.stderr}"
