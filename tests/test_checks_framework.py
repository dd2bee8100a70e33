import pytest

from utils import checks
from utils.checks import EXERCISES, check, evaluate


def stub(*args):
    raise NotImplementedError


def test_every_exercise_has_a_title_and_checker():
    assert EXERCISES, "no exercises registered"
    for ex in EXERCISES.values():
        assert ex.title and callable(ex.checker)


def test_unattempted_function_and_value(capsys):
    r = check("2.1.1", stub)
    assert r.status == checks.NOT_ATTEMPTED and not r.passed
    assert "not attempted yet" in capsys.readouterr().out
    assert evaluate("2.1.4", ...).status == checks.NOT_ATTEMPTED


def test_crashing_answer_is_reported_in_one_line():
    r = evaluate("2.1.1", lambda theta: 1 / 0)
    assert r.status == checks.FAILED and "ZeroDivisionError" in r.message


def test_strict_raises_unless_passed():
    with pytest.raises(AssertionError, match="not attempted"):
        check("2.1.1", stub, strict=True)


def test_unknown_or_malformed_ids():
    with pytest.raises(ValueError, match="unknown exercise '9.9.9'"):
        evaluate("9.9.9", 1)
    with pytest.raises(TypeError, match="exercise id must be a string"):
        evaluate(211, 1)


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        checks.exercise("2.1.1", "again")(lambda a: "x")
