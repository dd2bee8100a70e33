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
