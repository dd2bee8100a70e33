import base64

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import widgets


def draw_line(slope=1.0):
    if slope == 0:
        raise ValueError("slope 0 is not allowed in this test")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, slope])
    return fig


def test_static_figure_is_a_png_in_the_bundle():
    w = widgets.InteractiveFigure(draw_line, {"slope": widgets.slider(-2, 2, 1.0, description="slope")})
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["text/plain"] == widgets.STATIC_NOTE


def test_moving_a_control_redraws_a_different_figure():
    w = widgets.InteractiveFigure(draw_line, {"slope": widgets.slider(-2, 2, 1.0)})
    before = w.output.outputs[0]["data"]["image/png"]
    w.controls["slope"].value = -1.5
    assert w.redraws == 2
    assert w.output.outputs[0]["data"]["image/png"] != before


def test_value_error_becomes_a_message_not_a_traceback():
    w = widgets.InteractiveFigure(draw_line, {"slope": widgets.slider(-2, 2, 1.0)})
    w.controls["slope"].value = 0.0
    out = w.output.outputs[0]
    assert out["output_type"] == "stream" and "slope 0 is not allowed" in out["text"]
    assert plt.get_fignums() == []  # the half-drawn figure was closed


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="draw must be a function"):
        widgets.InteractiveFigure("not a function", {})
    with pytest.raises(TypeError, match="must be an ipywidgets control"):
        widgets.InteractiveFigure(draw_line, {"slope": 1.0})
    with pytest.raises(ValueError, match="outside"):
        widgets.slider(0, 1, 2)
    with pytest.raises(ValueError, match="at least one option"):
        widgets.dropdown([])
    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        widgets.InteractiveFigure(lambda slope: None, {"slope": widgets.slider(0, 1, 0.5)})


def test_dropdown_and_integer_slider():
    d = widgets.dropdown(["a", "b"], value="b")
    s = widgets.slider(1, 10, 3, integer=True)
    w = widgets.InteractiveFigure(lambda mode, n: draw_line(float(n)), {"mode": d, "n": s})
    assert w.values == {"mode": "b", "n": 3}
    assert np.issubdtype(type(w.values["n"]), np.integer)
