"""Each checker of section 8.4 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests

from utils import manufacturing as mf


def event_scores(labels, alarms):
    y, a = np.asarray(labels, bool), np.asarray(alarms, bool)

    def runs(v):
        d = np.diff(np.r_[0, v.astype(int), 0])
        return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))

    caught = sum(1 for s, e in runs(y) if a[s:e].any())
    false = sum(1 for s, e in runs(a) if not y[s:e].any())
    p = caught / (caught + false) if caught + false else 0.0
    r = caught / len(runs(y))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def rolling_zscore(x, window):
    x = np.asarray(x, float)
    z = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        past = x[t - window:t]
        z[t] = (x[t] - past.mean()) / max(past.std(ddof=1), 0.01)
    return z


def alarm_threshold(normal_scores, per_1000):
    s = np.sort(np.asarray(normal_scores, float))
    s = s[~np.isnan(s)]
    allowed = int(np.floor(per_1000 * len(s) / 1000 + 1e-9))
    return float(s[len(s) - 1 - allowed])


def mahalanobis(F, mean, cov):
    d = np.atleast_2d(F) - mean
    return np.sqrt(np.sum(d * np.linalg.solve(cov, d.T).T, axis=1))


REFERENCE = {"8.4.1": event_scores, "8.4.2": rolling_zscore, "8.4.3": alarm_threshold, "8.4.4": mahalanobis}


def point_scores(labels, alarms):
    y, a = np.asarray(labels, bool), np.asarray(alarms, bool)
    tp = np.sum(y & a)
    p = tp / a.sum() if a.sum() else 0.0
    r = tp / y.sum()
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def every_alarm_counts(labels, alarms):
    y, a = np.asarray(labels, bool), np.asarray(alarms, bool)
    tp = int(np.sum(y & a))
    false = sum(1 for s, e in mf.events(a) if not y[s:e].any())
    p = tp / (tp + false) if tp + false else 0.0
    r = sum(1 for s, e in mf.events(y) if a[s:e].any()) / len(mf.events(y))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def z_includes_current(x, window):
    x = np.asarray(x, float)
    z = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        w = x[t - window + 1:t + 1]
        z[t] = (x[t] - w.mean()) / max(w.std(ddof=1), 0.01)
    return z


def z_population_std(x, window):
    x = np.asarray(x, float)
    z = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        z[t] = (x[t] - x[t - window:t].mean()) / max(x[t - window:t].std(), 0.01)
    return z


def z_pandas_style(x, window):  # NaN only for window - 1 positions
    z = rolling_zscore(x, window)
    z[window - 1] = 0.0
    return z


def threshold_quantile(normal_scores, per_1000):
    return float(np.nanquantile(normal_scores, 1 - per_1000 / 1000))


def threshold_off_by_one(normal_scores, per_1000):
    s = np.sort(np.asarray(normal_scores, float))
    s = s[~np.isnan(s)]
    allowed = int(np.floor(per_1000 * len(s) / 1000 + 1e-9))
    return float(s[max(len(s) - 2 - allowed, 0)])


def threshold_too_high(normal_scores, per_1000):
    s = np.sort(np.asarray(normal_scores, float))
    s = s[~np.isnan(s)]
    allowed = int(np.floor(per_1000 * len(s) / 1000 + 1e-9))
    return float(s[min(len(s) - allowed, len(s) - 1)])


def squared(F, mean, cov):
    return mahalanobis(F, mean, cov) ** 2


def euclid(F, mean, cov):
    return np.linalg.norm(np.atleast_2d(F) - mean, axis=1)


def times_cov(F, mean, cov):
    d = np.atleast_2d(F) - mean
    return np.sqrt(np.einsum("ij,jk,ik->i", d, cov, d))


WRONG = [
    ("8.4.1", point_scores, "reading-level"),
    ("8.4.1", every_alarm_counts, "counts once"),
    ("8.4.2", z_includes_current, "its own window"),
    ("8.4.2", z_population_std, "ddof=1"),
    ("8.4.2", z_pandas_style, "should be NaN"),
    ("8.4.3", threshold_quantile, "the check allows"),
    ("8.4.3", threshold_off_by_one, "lie above your threshold"),
    ("8.4.3", threshold_too_high, "a smaller score"),
    ("8.4.4", squared, "square root"),
    ("8.4.4", euclid, "Euclidean"),
    ("8.4.4", times_cov, "inverse"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
