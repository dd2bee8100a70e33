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


def test_an_unexpected_error_after_a_move_is_shown_in_the_widget():
    def draw(n=1):
        if n == 3:
            return {}["missing"]  # a bug that only some settings reach
        return draw_line(float(n))

    w = widgets.InteractiveFigure(draw, {"n": widgets.slider(1, 5, 1, integer=True)})
    w.controls["n"].value = 3  # must not raise into the Jupyter log
    text = w.output.outputs[0]["text"]
    assert "KeyError" in text and "n=3" in text and "line" in text and "{}[\"missing\"]" in text
    assert not any(c.disabled for c in w.controls.values()) and not w.busy
    w.controls["n"].value = 2
    assert w.output.outputs[0]["output_type"] == "display_data"


def test_an_error_at_the_default_values_fails_loudly():
    with pytest.raises(ZeroDivisionError):
        widgets.InteractiveFigure(lambda n: 1 / 0, {"n": widgets.slider(0, 1, 0.5)})


def test_controls_are_disabled_and_the_status_says_busy_while_drawing():
    seen = []

    def draw(n=1):
        if seen is not None and hasattr(draw, "widget"):
            seen.append((draw.widget.busy, draw.widget.status.value,
                         all(c.disabled for c in draw.widget.controls.values())))
        return draw_line(float(n))

    w = widgets.InteractiveFigure(draw, {"n": widgets.slider(1, 5, 1, integer=True)})
    draw.widget = w
    w.controls["n"].value = 2
    assert seen == [(True, "⏳ recomputing the figure…", True)]
    assert w.status.value == "" and not w.busy
