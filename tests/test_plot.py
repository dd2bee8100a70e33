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
