import pytest

from utils import checks
from utils.checks import EXERCISES, FAILED, check, evaluate


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


def test_check_prints_the_verdict_once_and_its_result_shows_nothing_more(capsys):
    """The verdict line is the only output of an exercise cell, in the lab and the book."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("from utils.checks import check, evaluate\n"
                   "def stub(theta):\n    raise NotImplementedError\n")
    capsys.readouterr()
    for cell in ('check("2.1.1", stub)', 'check("2.1.1", stub);'):
        shell.run_cell(cell)
        out = capsys.readouterr().out
        assert out.count("Exercise 2.1.1") == 1 and "CheckResult(" not in out, out
    shell.run_cell('evaluate("2.1.1", stub)')  # evaluate() alone still shows its verdict
    out = capsys.readouterr().out
    assert out.count("Exercise 2.1.1") == 1 and "CheckResult(" not in out, out


def test_a_crash_names_the_learners_line_and_arguments():
    import numpy as np

    def rotation_matrix(theta):
        c = np.cos(theta)
        return np.array([[c, -np.sin(theta)], [np.sin(theta)]]) @ np.eye(3)

    result = evaluate("2.1.1", rotation_matrix)
    assert result.status == FAILED
    assert "rotation_matrix(theta=" in result.message and "line" in result.message
    assert "np.eye(3)" in result.message, result.message


def test_an_array_where_a_function_is_expected_is_named():
    import numpy as np

    result = evaluate("2.1.1", np.eye(2))
    assert result.status == FAILED
    assert "asks for a function" in result.message and "shape (2, 2)" in result.message, result.message
