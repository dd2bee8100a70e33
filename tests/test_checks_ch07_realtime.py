"""Each checker of section 7.3 accepts the reference answer and rejects plausible mistakes."""
import numpy as np

from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args):
    raise NotImplementedError


def fold_in_solve(Q, t, reg):
    return np.linalg.solve(Q.T @ Q + reg * np.eye(Q.shape[1]), Q.T @ t)


def online_mean(mean, n, x):
    return mean + (x - mean) / (n + 1)


def top_k_excluding(scores, k, exclude):
    s = np.array(scores, dtype=float)
    s[exclude] = -np.inf
    part = np.argpartition(-s, k - 1)[:k]
    return part[np.argsort(-s[part])]


def test_references_pass():
    for ex_id, ref in (("7.3.1", fold_in_solve), ("7.3.2", online_mean), ("7.3.3", top_k_excluding)):
        result = evaluate(ex_id, ref)
        assert result.status == PASSED, result.message


def test_stubs_are_not_attempted():
    for ex_id in ("7.3.1", "7.3.2", "7.3.3"):
        assert evaluate(ex_id, stub).status == NOT_ATTEMPTED
        assert evaluate(ex_id, ...).status == NOT_ATTEMPTED


def _fails(ex_id, answer, phrase):
    result = evaluate(ex_id, answer)
    assert result.status == FAILED and phrase in result.message, result.message


def test_fold_in_mistakes():
    _fails("7.3.1", lambda Q, t, reg: np.linalg.lstsq(Q, t, rcond=None)[0], "plain least squares")
    _fails("7.3.1", lambda Q, t, reg: fold_in_solve(Q, t, 2 * reg), "factor 2")
    _fails("7.3.1", lambda Q, t, reg: fold_in_solve(Q, t, reg)[:-1], "shape")
    _fails("7.3.1", lambda Q, t, reg: Q.T @ t / (len(t) + reg), "differs")


def test_online_mean_mistakes():
    _fails("7.3.2", lambda m, n, x: m + (x - m) / max(n, 1), "off by one")
    _fails("7.3.2", lambda m, n, x: (m + x) / 2, "weights the new value")
    _fails("7.3.2", lambda m, n, x: m + (m - x) / (n + 1), "expected")


def test_top_k_mistakes():
    _fails("7.3.3", lambda s, k, e: np.argsort(-s)[:k], "excluded")
    _fails("7.3.3", lambda s, k, e: np.sort(top_k_excluding(s, k, e)), "wrong order")

    def ascending(s, k, e):
        s = np.array(s, dtype=float)
        s[e] = np.inf
        return np.argsort(s, kind="stable")[:k]
    _fails("7.3.3", ascending, "worst")
    _fails("7.3.3", lambda s, k, e: top_k_excluding(s, k + 1, e), "shape")
