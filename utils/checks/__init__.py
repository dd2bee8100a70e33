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
from dataclasses import dataclass
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
        return CheckResult(id, ex.title, FAILED, f"your code raised {type(err).__name__}: {err}")
    return CheckResult(id, ex.title, PASSED, message or "all tests passed")


def check(id: str, answer, strict: bool = False) -> CheckResult:
    """Check ``answer`` for exercise ``id``, print the verdict and return it.

    With ``strict=True`` (used by the solutions) anything but a pass raises
    ``AssertionError``.
    """
    result = evaluate(id, answer)
    print(result)
    if strict and not result.passed:
        raise AssertionError(str(result))
    return result


# Register the checkers of every chapter (each module calls @exercise at import).
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
