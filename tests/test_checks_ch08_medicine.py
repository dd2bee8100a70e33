"""Each checker of section 8.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
from checker_contract import contract_tests

from utils import clinical
from utils.checks import NOT_ATTEMPTED, evaluate


def window_level(hu, level, width):
    return np.clip((np.asarray(hu, float) - (level - width / 2)) / width, 0, 1)


def net_benefit(y, prob, t):
    y, prob = np.asarray(y), np.asarray(prob)
    called, n = prob >= t, len(y)
    return np.sum(called & (y == 1)) / n - np.sum(called & (y == 0)) / n * t / (1 - t)


def dice(pred, target):
    a, b = np.asarray(pred) != 0, np.asarray(target) != 0
    return 1.0 if a.sum() + b.sum() == 0 else 2 * np.sum(a & b) / (a.sum() + b.sum())


def km_survival(time, event, at):
    s = 1.0
    for t in np.unique(time[(event == 1) & (time <= at)]):
        s *= 1 - np.sum((time == t) & (event == 1)) / np.sum(time >= t)
    return s


REFERENCE = {"8.1.1": window_level, "8.1.2": net_benefit, "8.1.3": dice, "8.1.4": km_survival}


def _counts(y, prob, t, strict=False):
    y, prob = np.asarray(y), np.asarray(prob)
    called = prob > t if strict else prob >= t
    return np.sum(called & (y == 1)), np.sum(called & (y == 0)), len(y)


def jaccard(a, b):
    a, b = np.asarray(a) != 0, np.asarray(b) != 0
    return 1.0 if not (a | b).any() else np.sum(a & b) / np.sum(a | b)


def dice_no_empty_rule(a, b):
    a, b = np.asarray(a) != 0, np.asarray(b) != 0
    return float("nan") if a.sum() + b.sum() == 0 else 2 * np.sum(a & b) / (a.sum() + b.sum())


def km_naive(time, event, at):
    return np.mean(~((time <= at) & (event == 1)))


def km_strict_risk_set(time, event, at):
    s = 1.0
    for t in np.unique(time[(event == 1) & (time <= at)]):
        s *= 1 - np.sum((time == t) & (event == 1)) / np.sum(time > t)
    return s


def km_before(time, event, at):
    s = 1.0
    for t in np.unique(time[(event == 1) & (time < at)]):
        s *= 1 - np.sum((time == t) & (event == 1)) / np.sum(time >= t)
    return s


WRONG = [
    ("8.1.1", lambda hu, l, w: (np.asarray(hu, float) - (l - w / 2)) / w, "clipped"),
    ("8.1.1", lambda hu, l, w: np.clip((np.asarray(hu, float) - (l - w)) / (2 * w), 0, 1), "half-width"),
    ("8.1.1", lambda hu, l, w: np.clip((np.asarray(hu, float) - l) / w, 0, 1), "CENTRE"),
    ("8.1.1", lambda hu, l, w: 255 * window_level(hu, l, w), "0-255"),
    ("8.1.1", lambda hu, l, w: window_level(hu, l, w)[0], "shape"),
    ("8.1.1", lambda hu, l, w: np.clip((np.asarray(hu, float) - l) / w + 0.4, 0, 1), "should give"),
    ("8.1.2", lambda y, p, t: (lambda tp, fp, n: tp / n - fp / n * (1 - t) / t)(*_counts(y, p, t)), "not (1 - t) / t"),
    ("8.1.2", lambda y, p, t: (lambda tp, fp, n: tp / n - fp / n * t)(*_counts(y, p, t)), "odds"),
    ("8.1.2", lambda y, p, t: (lambda tp, fp, n: tp - fp * t / (1 - t))(*_counts(y, p, t)), "per patient"),
    ("8.1.2", lambda y, p, t: (lambda tp, fp, n: tp / n - fp / n * t / (1 - t))(*_counts(y, p, t, True)), "prob >= t"),
    ("8.1.2", lambda y, p, t: (lambda tp, fp, n: tp / n - fp / n)(*_counts(y, p, t)), "not weighted"),
    ("8.1.2", lambda y, p, t: np.array([net_benefit(y, p, t)]), "one number"),
    ("8.1.2", lambda y, p, t: 0.1, "should be"),
    ("8.1.3", jaccard, "Jaccard"),
    ("8.1.3", lambda a, b: np.mean((np.asarray(a) != 0) == (np.asarray(b) != 0)), "pixel accuracy"),
    ("8.1.3", lambda a, b: dice(a, b) / 2 if np.any(a) or np.any(b) else 1.0, "factor 2"),
    ("8.1.3", dice_no_empty_rule, "empty masks"),
    ("8.1.3", lambda a, b: 2 * np.sum((np.asarray(a) == 1) & (np.asarray(b) == 1)) / max(np.sum(np.asarray(a) == 1) + np.sum(np.asarray(b) == 1), 1)
     if (np.asarray(a) == 1).any() or (np.asarray(b) == 1).any() else 1.0, "should be"),
    ("8.1.4", km_naive, "risk set"),
    ("8.1.4", km_strict_risk_set, "time >= t"),
    ("8.1.4", km_before, "BEYOND"),
    ("8.1.4", lambda time, event, at: 1 - np.mean(time <= at), "should be"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    assert evaluate("8.1.1", lambda hu, level, width: clinical.window_level(hu, level, width)).passed
    assert evaluate("8.1.2", lambda y, p, t: clinical.net_benefit(y, p, t)).passed
    assert evaluate("8.1.3", lambda a, b: clinical.dice(a, b)).passed

    def km(time, event, at):
        times, surv, _ = clinical.kaplan_meier(time, event)
        return float(surv[times <= at][-1]) if np.any(times <= at) else 1.0

    assert evaluate("8.1.4", km).passed
