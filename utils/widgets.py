"""Interactive figures that also work as static figures.

:func:`interactive_figure` draws a figure from a few controls (sliders,
dropdowns). In JupyterLab the learner moves a control and the figure is
redrawn. In the static book (no Python behind the page) the same output shows
the figure at the controls' default values, so no page has a blank widget.

    def draw(angle=30.0):
        fig, ax = plt.subplots()
        ...
        return fig

    interactive_figure(draw, angle=slider(0, 180, 30, step=5, description="angle (deg)"));

``draw`` may raise ``ValueError`` for inputs that make no sense (a singular
matrix, say): the message is shown in place of the figure, never a traceback.
Any other error raised while the learner moves a control is shown the same way,
with its type and the line of ``draw`` that raised it (the Jupyter log is not where
a learner looks). While ``draw`` runs (some widgets retrain a model), the controls
are disabled and a line says that the figure is being recomputed.
"""
from __future__ import annotations

import base64
import traceback
from typing import Callable

import matplotlib.pyplot as plt

from utils.plot import fig_to_png

STATIC_NOTE = "Interactive figure: run this notebook in JupyterLab to move the controls."


def slider(min: float, max: float, value: float, step: float | None = None, description: str = "", integer: bool = False):
    """A slider that redraws when released (not while dragging: smooth on a slow CPU)."""
    import ipywidgets as W

    if not min <= value <= max:
        raise ValueError(f"slider value {value} is outside [{min}, {max}]")
    cls = W.IntSlider if integer else W.FloatSlider
    kwargs = dict(min=min, max=max, value=value, description=description, continuous_update=False,
                  style={"description_width": "initial"})
    if step is not None:
        kwargs["step"] = step
    return cls(**kwargs)


def dropdown(options, value=None, description: str = ""):
    """A drop-down list of ``options`` (strings, or (label, value) pairs)."""
    import ipywidgets as W

    options = list(options)
    if not options:
        raise ValueError("dropdown needs at least one option")
    kwargs = dict(options=options, description=description, style={"description_width": "initial"})
    if value is not None:
        kwargs["value"] = value
    return W.Dropdown(**kwargs)


def _message(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": f"⚠ {text}\n"}


def _where(err: BaseException) -> str:
    """'line 12 of draw: x = a / b' for the innermost frame of the error."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (line {last.lineno} of {last.name}: {(last.line or '').strip()})"


def _render(draw: Callable, values: dict, catch_all: bool = False) -> dict:
    """One output (nbformat dict): the figure as PNG, or the error message as text.

    A ``ValueError`` is a domain problem the learner can fix with the controls: its
    message is shown. With ``catch_all`` (a redraw after the learner moved a control),
    any other error is shown too, with where it happened; the first drawing at the
    default values lets it propagate, so a broken figure fails the notebook's tests.
    """
    try:
        fig = draw(**values)
    except ValueError as err:
        plt.close("all")
        return _message(str(err))
    except Exception as err:
        plt.close("all")
        if not catch_all:
            raise
        settings = ", ".join(f"{k}={v!r}" for k, v in values.items())
        return _message(f"the figure could not be drawn for {settings}: "
                        f"{type(err).__name__}: {err}{_where(err)}")
    if not hasattr(fig, "savefig"):
        problem = f"draw() must return a matplotlib Figure, got {type(fig).__name__}"
        if not catch_all:
            raise TypeError(problem)
        return _message(problem)
    png = fig_to_png(fig)
    plt.close(fig)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<Figure>"},
        "metadata": {},
    }


class InteractiveFigure:
    """The object returned by :func:`interactive_figure` (also usable in tests)."""

    def __init__(self, draw: Callable, controls: dict):
        import ipywidgets as W

        if not callable(draw):
            raise TypeError(f"draw must be a function returning a Figure, got {type(draw).__name__}")
        for name, control in controls.items():
            if not isinstance(control, W.ValueWidget):
                raise TypeError(f"control {name!r} must be an ipywidgets control (e.g. slider(...)), "
                                f"got {type(control).__name__}")
        self.draw = draw
        self.controls = controls
        self.output = W.Output()
        self.status = W.Label(value="")
        self.busy = False
        self.redraws = 0
        self.update(catch_all=False)  # the default figure, shown without any display message
        for control in controls.values():
            control.observe(lambda change: self.update(), names="value")
        self.box = W.VBox([*controls.values(), self.status, self.output])

    @property
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self, catch_all: bool = True) -> dict:
        """Redraw with the controls' current values; return the new output.

        While ``draw`` runs, the controls are disabled and the status line says so.
        """
        self.busy = True
        self.status.value = "⏳ recomputing the figure…"
        for control in self.controls.values():
            control.disabled = True
        try:
            out = _render(self.draw, self.values, catch_all=catch_all)
        finally:
            for control in self.controls.values():
                control.disabled = False
            self.status.value = ""
            self.busy = False
        self.output.outputs = (out,)
        self.redraws += 1
        return out

    def _repr_mimebundle_(self, **kwargs):
        # JupyterLab renders the live widget. Renderers without widget support
        # (the static book, GitHub) fall back to the figure at default values.
        bundle = self.box._repr_mimebundle_(**kwargs)
        first = self.output.outputs[0]
        if first["output_type"] == "display_data":
            bundle["image/png"] = first["data"]["image/png"]
        bundle["text/plain"] = STATIC_NOTE if first["output_type"] == "display_data" else first["text"]
        return bundle


def interactive_figure(draw: Callable, **controls) -> InteractiveFigure:
    """Show ``draw(**values)`` with one control per keyword argument; return the widget.

    End the cell with ``;`` (or assign the result) so the object shows once.
    """
    from IPython.display import display

    widget = InteractiveFigure(draw, controls)
    display(widget)
    return widget
