"""Checkers for section 8.4 (manufacturing: event-level scores, rolling z-score, alarm threshold, Mahalanobis)."""
from __future__ import annotations

import numpy as np

from utils import manufacturing as _mf
from utils.checks import Wrong, exercise, not_close, number, tolerance, shaped_array


def _triple(value, what: str):
    try:
        got = tuple(value)
    except TypeError:
        raise Wrong(f"{what} should return (precision, recall, f1), got {type(value).__name__}")
    if len(got) != 3:
        raise Wrong(f"{what} should return three numbers (precision, recall, f1), got {len(got)}")
    return tuple(number(v, what) for v in got)


_array = shaped_array  # one helper for chapter 8's checkers, in utils.checks


# --- 8.4.1 event-level precision, recall, F1 ----------------------------------------------------

def _point_scores(y, a):
    """The tempting version: precision and recall over readings, not events."""
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    tp = np.sum(y & a)
    p = tp / a.sum() if a.sum() else 0.0
    r = tp / y.sum()
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _alarms_counted(y, a):
    """Counts every alarm reading inside an event as a true positive."""
    y, a = np.asarray(y, bool), np.asarray(a, bool)
    tp = int(np.sum(y & a))
    false = sum(1 for s, e in _mf.events(a) if not y[s:e].any())
    p = tp / (tp + false) if tp + false else 0.0
    r = sum(1 for s, e in _mf.events(y) if a[s:e].any()) / len(_mf.events(y))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@exercise("8.4.1", "event-level precision, recall and F1 of an anomaly detector")
def _check_events(event_scores) -> str:
    y = np.zeros(60, int)
    y[10:20] = 1
    y[40:45] = 1
    cases = []
    a = np.zeros(60, int); a[12:16] = 1; a[30] = 1; a[50:53] = 1  # one event, 4 alarms inside; 2 false alarms
    cases.append(a)
    a = np.zeros(60, int); a[[11, 13, 15, 41, 43]] = 1  # flickering alarms: both events, no false alarm
    cases.append(a)
    a = np.zeros(60, int); a[18:25] = 1  # an alarm run that starts inside an event: not false
    cases.append(a)
    cases.append(np.zeros(60, int))  # silent detector: 0, 0, 0
    rng = np.random.default_rng(841)
    for _ in range(3):
        cases.append((rng.uniform(size=60) < 0.15).astype(int))
    for a in cases:
        r = _mf.event_metrics(y, a)
        expected = (r["precision"], r["recall"], r["f1"])
        got = _triple(event_scores(y.copy(), a.copy()), "event_scores(labels, alarms)")
        if np.allclose(got, expected, atol=1e-9, rtol=0):
            continue
        if np.allclose(got, _point_scores(y, a), atol=1e-9) and a.any():
            raise Wrong(f"you return {np.round(got, 4).tolist()}, the reading-level scores; at the event level expected "
                        f"{np.round(expected, 4).tolist()} (the check allows {tolerance(atol=1e-9)}): an event counts once "
                        "when any alarm falls inside it, and a run of alarms outside events is one false alarm")
        if np.allclose(got, _alarms_counted(y, a), atol=1e-9) and a.any():
            raise Wrong(f"precision {got[0]:.4f}, expected {expected[0]:.4f}: you count every alarm inside an event; "
                        "a caught event counts once, however many alarms it raises")
        raise Wrong(f"for alarms at readings {np.flatnonzero(a).tolist()} (events at 10-19 and 40-44) expected "
                    f"(precision, recall, f1) = {np.round(expected, 6).tolist()}, got {np.round(got, 6).tolist()} "
                    f"(the check allows {tolerance(atol=1e-9)})")
    return f"{len(cases)} alarm patterns on 2 events: alarms flickering inside events, a run crossing an event's end, silence"


# --- 8.4.2 rolling z-score ----------------------------------------------------------------------

@exercise("8.4.2", "rolling z-score from past readings only")
def _check_zscore(rolling_zscore) -> str:
    rng = np.random.default_rng(842)
    x = np.round(20 + np.cumsum(rng.normal(0, 0.05, 80)), 2)
    x[50:56] = x[49]  # a flat stretch: std 0 -> floor 0.01
    x[60] += 3.0
    for window in (5, 12):
        expected = _mf.rolling_zscore(x, window)
        got = _array(rolling_zscore(x.copy(), window), x.shape, f"rolling_zscore(x, {window})")
        if not np.array_equal(np.isnan(got), np.isnan(expected)):
            raise Wrong(f"window {window}: exactly the first {window} values should be NaN (no full window of past "
                        f"readings yet); yours are NaN at {np.flatnonzero(np.isnan(got)).tolist()[:12]}")
        ok = ~np.isnan(expected)
        if np.allclose(got[ok], expected[ok], rtol=1e-7, atol=1e-9):
            continue
        t = int(np.flatnonzero(~np.isclose(got[ok], expected[ok], rtol=1e-7, atol=1e-9))[0]) + window
        inc = (x[t] - x[t - window + 1:t + 1].mean()) / max(x[t - window + 1:t + 1].std(ddof=1), 0.01)
        pop = (x[t] - x[t - window:t].mean()) / max(x[t - window:t].std(), 0.01)
        hint = ""
        if np.isclose(got[t], inc, rtol=1e-7):
            hint = "the current reading is inside its own window: use x[t-window:t]"
        elif np.isclose(got[t], pop, rtol=1e-7):
            hint = "use the sample standard deviation (divisor window - 1, ddof=1)"
        elif not np.isfinite(got[t]):
            hint = "a flat stretch has std 0: divide by max(std, 0.01)"
        raise not_close(f"window {window}, z[{t}]", got[t], expected[t], rtol=1e-7, atol=1e-9, hint=hint)
    return "windows 5 and 12 on a random walk with a flat stretch and a jump"


# --- 8.4.3 alarm threshold ----------------------------------------------------------------------

@exercise("8.4.3", "alarm threshold from an alarm budget on normal readings")
def _check_threshold(alarm_threshold) -> str:
    rng = np.random.default_rng(843)
    s = rng.exponential(size=2000)
    s_nan = np.r_[np.full(20, np.nan), s[:980]]
    tied = np.r_[np.zeros(990), np.ones(10)]
    cases = [(s, 1.0), (s, 5.0), (s, 0.5), (s_nan, 2.0), (tied, 5.0), (s[:100], 20.0)]
    for scores, budget in cases:
        expected = _mf.alarm_threshold(scores, budget)
        got = number(alarm_threshold(scores.copy(), budget), f"alarm_threshold(scores, {budget})")
        if got == expected:
            continue
        n_above = int(np.sum(scores[~np.isnan(scores)] > got))
        allowed = int(np.floor(budget * np.sum(~np.isnan(scores)) / 1000 + 1e-9))
        hint = (f"{n_above} scores lie above your threshold, the budget allows {allowed}" if n_above > allowed else
                f"{n_above} scores lie above it, the budget allows {allowed}: a smaller score from the data would do")
        if np.isnan(scores).any():
            hint += "; NaN scores (no full window yet) do not count"
        raise not_close(f"with {len(scores)} scores and {budget:g} alarms per 1,000 the threshold", got, expected,
                        hint=hint)
    return f"{len(cases)} budgets, with NaN scores, tied scores and a budget of zero alarms"


# --- 8.4.4 Mahalanobis distance -----------------------------------------------------------------

@exercise("8.4.4", "Mahalanobis distance of feature vectors")
def _check_mahalanobis(mahalanobis) -> str:
    rng = np.random.default_rng(844)
    A = rng.normal(size=(4, 4))
    cov = A @ A.T + 0.5 * np.eye(4)
    mean = rng.normal(size=4)
    F = rng.normal(size=(15, 4))
    expected = _mf.mahalanobis(F, mean, cov)
    got = _array(mahalanobis(F.copy(), mean.copy(), cov.copy()), expected.shape, "mahalanobis(F, mean, cov)")
    if np.allclose(got, expected, rtol=1e-8):
        d = np.array([1.0, 2.0, 3.0, 4.0])
        got_iso = _array(mahalanobis(mean[None] + d[None], mean, np.diag(d ** 2)), (1,), "mahalanobis(...)")
        if abs(got_iso[0] - 2.0) > 1e-8:
            raise not_close("for a diagonal covariance the distance of mean + sigma", got_iso[0], 2.0, atol=1e-8)
        return "15 points under a random full covariance, and a diagonal one"
    if np.allclose(got, expected ** 2, rtol=1e-8):
        raise Wrong("you return the squared distance; take the square root")
    if np.allclose(got, np.linalg.norm(F - mean, axis=1), rtol=1e-8):
        raise Wrong("you return the Euclidean distance: weight the difference by the inverse covariance")
    wrong_inv = np.sqrt(np.einsum("ij,jk,ik->i", F - mean, cov, F - mean))
    if np.allclose(got, wrong_inv, rtol=1e-8):
        raise Wrong("you multiply by the covariance itself; the distance uses its inverse (solve cov @ z = d)")
    i = int(np.argmax(np.abs(got - expected)))
    raise not_close(f"the distance of row {i}", got[i], expected[i], rtol=1e-8)
