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


# --- numbers, tolerance, not_close: a close answer that fails says why ------------------

def test_numbers_print_different_values_differently():
    from utils.checks import numbers

    assert numbers(0.5, 0.25) == ["0.5", "0.25"]  # few digits when few tell them apart
    assert numbers(3.14159265, 2.0) == ["3.142", "2"]  # at least 4 significant digits
    assert numbers(2.0000123, 2.0) == ["2.00001", "2"]
    assert numbers(1.0 + 1e-15, 1.0) == ["1.000000000000001", "1"]
    assert numbers(0.1 + 0.2, 0.3) == ["0.30000000000000004", "0.3"]  # the float's own digits, no more
    import math

    after = math.nextafter(1 / 3, 1)  # the closest two floats can be
    a, b = numbers(1 / 3, after)
    assert a != b and float(a) < float(b)
    assert numbers(7, 7.0, 7.5) == ["7", "7", "7.5"]  # equal values may print alike
    assert numbers(123456789, 123456788) == ["123456789", "123456788"]  # integers exactly
    assert numbers(1e23 * 1.0001, 1e23) == ["1.0001e+23", "1e+23"]
    assert numbers(float("nan"), 1.0) == ["nan", "1"]
    assert numbers(2.5, digits=2) == ["2.5"]


def test_numbers_of_arrays_and_numpy_scalars():
    import numpy as np

    from utils.checks import numbers

    assert numbers([1.0, 2.00001], [1.0, 2.0]) == ["[1, 2.00001]", "[1, 2]"]
    assert numbers(np.array([[0.5, 1.0]]), np.array([[0.5, 1.0]])) == ["[[0.5, 1]]", "[[0.5, 1]]"]
    assert numbers(np.float32(0.1), 0.1) == ["0.100000001", "0.1"]  # float32 rounding shows
    assert numbers(np.int64(3), np.float64(3.25)) == ["3", "3.25"]


def test_tolerance_in_words():
    from utils.checks import tolerance

    assert tolerance(1e-6) == "a relative difference of 1e-06"
    assert tolerance(atol=1e-9) == "an absolute difference of 1e-09"
    assert tolerance(0.01) == "a relative difference of 1%"
    assert tolerance(rtol=0.02) == "a relative difference of 2%"
    assert tolerance(1e-5, 1e-8) == "a relative difference of 1e-05, or an absolute one of 1e-08 near zero"
    assert tolerance(atol=1e-3) == "an absolute difference of 0.001"
    assert tolerance() == "no difference"


def test_not_close_builds_the_message():
    from utils.checks import Wrong, not_close

    err = not_close("f(1)", 1.00001, 1.0, rtol=1e-6)
    assert isinstance(err, Wrong)
    assert str(err) == "f(1) should be 1, you returned 1.00001 (the check allows a relative difference of 1e-06)"
    err = not_close("x.grad", 0.6442, 0.76484, atol=1e-9, named="cos(0.7)", hint="use the chain rule")
    assert str(err) == ("x.grad should be cos(0.7) = 0.7648, you returned 0.6442 (the check allows an absolute "
                        "difference of 1e-09); use the chain rule")
    assert str(not_close("T", 2.0, 1.0, rtol=0.01, hint=": too hot")).endswith("of 1%): too hot")


def test_a_checker_reports_a_near_miss_with_the_digits_that_differ():
    import math
    import re

    result = evaluate("2.2.4", _value_sin_slightly_off)  # sin(0.7) off by 1e-11: the check allows 1e-12
    assert result.status == FAILED
    shown = re.search(r"sin\(0.7\) = (\S+), you returned (\S+) \(the check allows a relative difference "
                      r"of 1e-12\)", result.message)
    assert shown, result.message
    assert shown[1] != shown[2] and abs(float(shown[1]) - math.sin(0.7)) < 1e-12, result.message


def _value_sin_slightly_off(x):
    import math

    from utils.autograd import Value

    out = Value(math.sin(x.data) * (1 + 1e-11), (x,), "sin")

    def _backward():
        x.grad += math.cos(x.data) * out.grad

    out._backward = _backward
    return out
