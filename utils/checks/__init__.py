"""Exercise checkers: say at once whether an answer is right, and if not, what is wrong.

In a chapter::

    def rotation_matrix(theta):
        raise NotImplementedError  # exercise: your code here

    check("2.1.1", rotation_matrix)

prints one of

- ``⏳ Exercise 2.1.1 (...): not attempted yet`` — the stub still raises
  ``NotImplementedError``; execution goes on, so the notebook runs top to bottom;
- ``❌ Exercise 2.1.1 (...): <what is wrong>`` — the answer was tried and failed a test;
- ``✅ Exercise 2.1.1 (...): correct — <what was checked>``.

The solutions notebooks call ``check(..., strict=True)``, which raises
``AssertionError`` unless the answer passes: a wrong solution fails the tests.
Checkers for each chapter live in a module of this package and register
themselves with :func:`exercise`.
"""
from __future__ import annotations

import math

import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from typing import Callable

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
_ICONS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳"}


class Wrong(Exception):
    """Raised by a checker with a message that tells the learner what is wrong."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    checker: Callable  # checker(answer) -> str (what was checked); raises Wrong


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: str
    message: str
    shown: bool = field(default=False, compare=False, repr=False)  # already printed by check()

    def _ipython_display_(self):
        # The verdict line is the only output of an exercise cell: check() has printed it,
        # so the result it returns shows nothing more (whether or not the cell ends in ";").
        if not self.shown:
            print(self)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        head = f"{_ICONS[self.status]} Exercise {self.id} ({self.title})"
        if self.status == PASSED:
            return f"{head}: correct — {self.message}"
        if self.status == NOT_ATTEMPTED:
            return f"{head}: not attempted yet — {self.message}"
        return f"{head}: not right yet — {self.message}"


def _format_one(value, d: int):
    """``value`` to ``d`` significant digits: an integer exactly, an array element by element."""
    import numbers as _numbers

    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (_numbers.Integral, np.integer)):
        return f"{int(value)}"
    if isinstance(value, (_numbers.Real, np.floating)):
        x = float(value)
        for k in range(1, d):  # no more digits than the float needs: 0.3, not 0.29999999999999999
            if float(f"{x:.{k}g}") == x:
                return f"{x:.{k}g}"
        return f"{x:.{d}g}"
    if isinstance(value, (list, tuple)) or hasattr(value, "shape"):
        arr = np.asarray(value)
        if arr.ndim == 0:
            return _format_one(arr.item(), d)
        return "[" + ", ".join(_format_one(v, d) for v in arr) + "]"
    return str(value)


def _same(a, b) -> bool:
    import numpy as np

    try:
        return bool(np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True))
    except (TypeError, ValueError):
        return a == b


def numbers(*values, digits: int = 4) -> list[str]:
    """The ``values`` as text, with enough digits that values which differ print differently.

    Each number gets the same count of significant digits: ``digits`` at least, more
    (up to 17, where any two floats differ) while two different values would print the
    same. Integers print exactly; an array or list prints element by element. So a
    learner sees *why* a close answer fails::

        >>> numbers(0.1 + 0.2, 0.3)
        ['0.30000000000000004', '0.3']
        >>> numbers(2.0000123, 2.0)
        ['2.00001', '2']
    """
    for d in range(max(1, digits), 18):
        texts = [_format_one(v, d) for v in values]
        if all(texts[i] != texts[j] or _same(values[i], values[j])
               for i in range(len(values)) for j in range(i + 1, len(values))):
            return texts
    return [_format_one(v, 17) for v in values]


def _amount(x: float, relative: bool) -> str:
    if relative and 1e-3 <= x < 1:
        return f"{x * 100:g}%"
    return f"{x:g}"


def number(value, what: str) -> float:
    """``value`` as a float, or :class:`Wrong` saying that ``what`` should be a (finite) number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    if not math.isfinite(x):
        raise Wrong(f"{what} is {x}: it should be a finite number (guard against dividing by zero)")
    return x


def shaped_array(value, shape: tuple, what: str):
    """``value`` as a float64 NumPy array of exactly ``shape``, or :class:`Wrong` saying what
    ``what`` should be (the shared helper of chapter 8's checkers)."""
    import numpy as np

    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be an array of numbers, got {type(value).__name__}")
    if a.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {a.shape}")
    return a


def tolerance(rtol: float = 0.0, atol: float = 0.0) -> str:
    """The tolerance of a comparison, in words: what a checker allows before it calls a number wrong.

    ``tolerance(rtol=1e-6)`` is "a relative difference of 1e-06", ``tolerance(atol=1e-9)``
    "an absolute difference of 1e-09", ``tolerance(0.01)`` "a relative difference of 1%";
    with both, "a relative difference of 1e-05, or an absolute one of 1e-08 near zero": true
    of ``np.isclose`` (which adds the two) and of ``math.isclose`` (which takes the larger)
    alike, to within a factor of 2. With neither the values must be equal: "no difference".
    """
    if rtol and atol:
        return f"a relative difference of {_amount(rtol, True)}, or an absolute one of {_amount(atol, False)} near zero"
    if rtol:
        return f"a relative difference of {_amount(rtol, True)}"
    if atol:
        return f"an absolute difference of {_amount(atol, False)}"
    return "no difference"


def not_close(what: str, got, expected, *, rtol: float = 0.0, atol: float = 0.0, hint: str = "",
              named: str = "") -> Wrong:
    """The :class:`Wrong` for a number that missed its expected value: ``raise not_close(...)``.

    The message reads "<what> should be <expected>, you returned <got> (the check allows
    <tolerance>)<hint>", both numbers printed by :func:`numbers` so that they differ on
    the page; pass the ``rtol``/``atol`` of the comparison that failed. A ``hint`` that
    does not start with punctuation is joined with "; ". ``named`` names the expected
    value: "x.grad should be cos(0.7) = 0.7648, ...".
    """
    got_text, expected_text = numbers(got, expected)
    if hint and not hint.startswith((";", ":", ",", ".", " ", "—")):
        hint = "; " + hint
    if named:
        expected_text = f"{named} = {expected_text}"
    return Wrong(f"{what} should be {expected_text}, you returned {got_text} "
                 f"(the check allows {tolerance(rtol, atol)}){hint}")


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, title: str):
    """Decorator registering ``checker`` as the checker of exercise ``id``."""

    def wrap(checker: Callable) -> Callable:
        if id in EXERCISES:
            raise ValueError(f"exercise {id!r} is registered twice")
        EXERCISES[id] = Exercise(id, title, checker)
        return checker

    return wrap


def _describe(value) -> str:
    """'a numpy.ndarray of shape (3, 4)', 'the int 5': what a learner passed, briefly."""
    kind = f"{type(value).__module__}.{type(value).__name__}".replace("builtins.", "")
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"a {kind} of shape {tuple(shape)}"
    text = repr(value)
    return f"the {kind} {text if len(text) <= 40 else text[:37] + '...'}"


def _learner_frame(err: BaseException, answer) -> str:
    """Where in the learner's own code the error happened, with the arguments it had there."""
    import traceback

    code = getattr(answer, "__code__", None)
    if code is None:
        return ""
    frame_here = None
    tb = err.__traceback__
    while tb is not None:  # the innermost frame that is in the learner's cell
        if tb.tb_frame.f_code.co_filename == code.co_filename:
            frame_here = tb
        tb = tb.tb_next
    if frame_here is None:
        return ""
    summary = traceback.extract_tb(frame_here, limit=1)[0]
    f_code, f_locals = frame_here.tb_frame.f_code, frame_here.tb_frame.f_locals
    names = f_code.co_varnames[:f_code.co_argcount + f_code.co_kwonlyargcount]
    args = ", ".join(f"{n}={_short(f_locals[n])}" for n in names if n in f_locals)
    line = (summary.line or "").strip()
    return f" — in {f_code.co_name}({args}), line {frame_here.tb_lineno}" + (f": {line}" if line else "")


def _short(value) -> str:
    """An argument as a learner would want to see it: an array by its shape, else a short repr."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def evaluate(id: str, answer) -> CheckResult:
    """Run the checker of exercise ``id`` on ``answer`` and return a :class:`CheckResult`."""
    if not isinstance(id, str):
        raise TypeError(f"exercise id must be a string like '2.1.1', got {type(id).__name__}")
    if id not in EXERCISES:
        raise ValueError(f"unknown exercise {id!r}; known: {', '.join(sorted(EXERCISES))}")
    ex = EXERCISES[id]
    if answer is ... or answer is None:
        return CheckResult(id, ex.title, NOT_ATTEMPTED, "replace the `...` with your answer")
    try:
        message = ex.checker(answer)
    except NotImplementedError:
        return CheckResult(id, ex.title, NOT_ATTEMPTED, "replace `raise NotImplementedError` with your code")
    except Wrong as err:
        return CheckResult(id, ex.title, FAILED, str(err))
    except Exception as err:  # the learner's code crashed: report it in one line, not a traceback
        if isinstance(err, TypeError) and "not callable" in str(err) and not callable(answer):
            return CheckResult(id, ex.title, FAILED,
                               f"this exercise asks for a function (def ...), but you passed "
                               f"{_describe(answer)}: pass the function itself, without calling it")
        return CheckResult(id, ex.title, FAILED,
                           f"your code raised {type(err).__name__}: {err}{_learner_frame(err, answer)}")
    return CheckResult(id, ex.title, PASSED, message or "all tests passed")


def check(id: str, answer, strict: bool = False) -> CheckResult:
    """Check ``answer`` for exercise ``id``, print the verdict and return it.

    With ``strict=True`` (used by the solutions) anything but a pass raises
    ``AssertionError``.
    """
    result = replace(evaluate(id, answer), shown=True)
    print(result)
    if strict and not result.passed:
        raise AssertionError(str(result))
    return result


# Register the checkers of every chapter (each module calls @exercise at import).
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
