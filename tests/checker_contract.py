"""The contract every exercise checker keeps, written once for all test_checks_*.py files.

A checker test file defines ``REFERENCE`` (exercise id -> a correct answer) and ``WRONG``
(a list of ``(id, wrong answer, phrase the message must contain)``), then says::

    from checker_contract import contract_tests
    (test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
     test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)

and pytest collects the three parametrised tests:

- the reference answer passes;
- each wrong answer fails, and the checker's message names the mistake (the phrase);
- the untouched exercise (the stub that raises ``NotImplementedError``, or ``...`` for an
  exercise whose answer is a value) is reported as "not attempted", never as wrong.
"""
from __future__ import annotations

import pytest

from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args, **kwargs):
    """What a learner's exercise cell holds before they write anything."""
    raise NotImplementedError


def contract_tests(reference: dict, wrong: list, stubs: dict | None = None):
    """Return the three contract tests over ``reference`` and ``wrong``.

    ``stubs`` overrides the untouched answer of an exercise (default: :func:`stub` when the
    reference answer is callable, ``...`` otherwise).
    """
    stubs = stubs or {}
    ids = sorted(reference)

    @pytest.mark.parametrize("id", ids)
    def test_reference_answer_passes(id):
        result = evaluate(id, reference[id])
        assert result.status == PASSED, result.message

    @pytest.mark.parametrize("id, answer, phrase", wrong)
    def test_wrong_answer_is_rejected_with_a_reason(id, answer, phrase):
        result = evaluate(id, answer)
        assert result.status == FAILED, f"{id}: a wrong answer was reported as {result.status}"
        assert phrase in result.message, result.message

    @pytest.mark.parametrize("id", ids)
    def test_stub_is_not_attempted(id):
        answer = stubs.get(id, stub if callable(reference[id]) else ...)
        assert evaluate(id, answer).status == NOT_ATTEMPTED

    return test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason, test_stub_is_not_attempted
