"""Clinical evaluation, written out: the metrics section 8.1 uses to judge a medical model.

Screening (a risk score against a yes/no outcome):

- :func:`roc_curve`, :func:`roc_auc` (the Mann-Whitney AUC of :func:`utils.embeddings.auc`),
  :func:`bootstrap_ci` for an interval on any metric;
- :func:`confusion_at` (sensitivity, specificity, PPV, NPV at one threshold),
  :func:`ppv_at_prevalence` (Bayes' theorem), :func:`cost_threshold`;
- :func:`brier_score` and :func:`reliability_curve` (calibration);
- :func:`net_benefit` and :func:`net_benefit_treat_all` (decision curves, Vickers & Elkin 2006);
- :func:`kaplan_meier` (survival with censoring, Kaplan & Meier 1958).

Imaging: :func:`to_hounsfield` and :func:`window_level` for DICOM CT, :func:`dice` for
segmentations. Every function checks its inputs and says what is wrong with them;
tests/test_clinical.py compares each with scikit-learn or a value worked out by hand.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from utils.embeddings import auc as _mann_whitney_auc


def _binary_and_scores(y, score, what: str = "score") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    score = np.asarray(score, dtype=np.float64)
    if y.ndim != 1 or score.ndim != 1:
        raise ValueError(f"y and {what} must be 1-D arrays, got shapes {y.shape} and {score.shape}")
    if len(y) != len(score):
        raise ValueError(f"y has {len(y)} entries but {what} has {len(score)}: one {what} per patient")
    if len(y) == 0:
        raise ValueError("no patients: y is empty")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError(f"y must hold 0 (no disease) and 1 (disease) only, got values {np.unique(y)[:5]}")
    if not np.all(np.isfinite(score)):
        raise ValueError(f"{what} must be finite numbers (found NaN or inf)")
    return y.astype(np.int64), score


def _probabilities(y, prob) -> tuple[np.ndarray, np.ndarray]:
    y, prob = _binary_and_scores(y, prob, "prob")
    if prob.min() < 0 or prob.max() > 1:
        raise ValueError(f"prob must be probabilities in [0, 1], got values from {prob.min():.3g} to {prob.max():.3g}")
    return y, prob


# --- discrimination --------------------------------------------------------------------------

def roc_curve(y, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: false-positive rate, true-positive rate and the threshold of each point.

    A patient is called positive when ``score >= threshold``. Thresholds run from +inf (no one
    positive, the point (0, 0)) down through every distinct score (everyone positive, (1, 1)).
    """
    y, score = _binary_and_scores(y, score)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"a ROC curve needs both classes, got {n_pos} positives and {n_neg} negatives")
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp, fp = np.cumsum(t)[last_of_tie], np.cumsum(1 - t)[last_of_tie]
    fpr = np.r_[0.0, fp / n_neg]
    tpr = np.r_[0.0, tp / n_pos]
    return fpr, tpr, np.r_[np.inf, s[last_of_tie]]


def roc_auc(y, score) -> float:
    """Area under the ROC curve = P(a random diseased patient scores above a random healthy one),
    ties counting one half (computed by ranks, :func:`utils.embeddings.auc`)."""
    y, score = _binary_and_scores(y, score)
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("the AUC needs both classes: y is all 0 or all 1")
    return _mann_whitney_auc(score[y == 1], score[y == 0])


def bootstrap_ci(y, score, metric: Callable = roc_auc, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """``(estimate, low, high)``: ``metric(y, score)`` and its percentile bootstrap interval.

    Patients are resampled with replacement ``n_boot`` times; a resample without both classes
    is drawn again (it has no AUC)."""
    y, score = _binary_and_scores(y, score)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 10:
        raise ValueError(f"n_boot={n_boot} is too few resamples for an interval")
    rng = np.random.default_rng(seed)
    values = []
    while len(values) < n_boot:
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            values.append(metric(y[idx], score[idx]))
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(metric(y, score)), float(low), float(high)


def confusion_at(y, score, threshold: float) -> dict[str, float]:
    """Counts and rates when everyone with ``score >= threshold`` is called positive.

    ``sensitivity`` = TP / (TP + FN), ``specificity`` = TN / (TN + FP),
    ``ppv`` = TP / (TP + FP) and ``npv`` = TN / (TN + FN) (NaN when nobody is called
    positive, respectively negative)."""
    y, score = _binary_and_scores(y, score)
    called = score >= threshold
    tp, fp = int(np.sum(called & (y == 1))), int(np.sum(called & (y == 0)))
    fn, tn = int(np.sum(~called & (y == 1))), int(np.sum(~called & (y == 0)))

    def ratio(a, b):
        return a / b if b else float("nan")

    return dict(tp=tp, fp=fp, fn=fn, tn=tn, sensitivity=ratio(tp, tp + fn), specificity=ratio(tn, tn + fp),
                ppv=ratio(tp, tp + fp), npv=ratio(tn, tn + fn))


def ppv_at_prevalence(prevalence, sensitivity: float, specificity: float):
    """P(disease | positive test) by Bayes' theorem, for one prevalence or an array of them."""
    p = np.asarray(prevalence, dtype=np.float64)
    for name, value in (("prevalence", p), ("sensitivity", sensitivity), ("specificity", specificity)):
        if np.any(np.asarray(value) < 0) or np.any(np.asarray(value) > 1):
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    true_pos = sensitivity * p
    false_pos = (1 - specificity) * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = true_pos / (true_pos + false_pos)
    return float(out) if out.ndim == 0 else out


def cost_threshold(cost_missed: float, cost_false_alarm: float) -> float:
    """The risk above which treating is cheaper than waiting, for a *calibrated* risk p:
    treat when p * cost_missed > (1 - p) * cost_false_alarm, i.e. p > c_FA / (c_FA + c_miss)."""
    if cost_missed <= 0 or cost_false_alarm <= 0:
        raise ValueError(f"costs must be positive, got missed={cost_missed}, false alarm={cost_false_alarm}")
    return cost_false_alarm / (cost_false_alarm + cost_missed)


# --- calibration -------------------------------------------------------------------------------

def brier_score(y, prob) -> float:
    """Mean squared difference between the predicted risk and the outcome (0 is perfect;
    always predicting the prevalence p scores p(1 - p))."""
    y, prob = _probabilities(y, prob)
    return float(np.mean((prob - y) ** 2))


def reliability_curve(y, prob, n_bins: int = 10, strategy: str = "uniform"
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean predicted risk, observed frequency, count)`` per non-empty bin of ``prob``.

    ``strategy="uniform"`` cuts [0, 1] into equal widths (as sklearn's ``calibration_curve``);
    ``"quantile"`` puts about the same number of patients in each bin. A calibrated model's
    points lie on the diagonal."""
    y, prob = _probabilities(y, prob)
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(prob, np.linspace(0, 1, n_bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    bins = np.searchsorted(edges[1:-1], prob, side="left")  # bins (a, b]: an edge value goes to the lower bin
    count = np.bincount(bins, minlength=n_bins)
    keep = count > 0
    mean_pred = np.bincount(bins, weights=prob, minlength=n_bins)[keep] / count[keep]
    observed = np.bincount(bins, weights=y, minlength=n_bins)[keep] / count[keep]
    return mean_pred, observed, count[keep]


# --- decisions ---------------------------------------------------------------------------------

def net_benefit(y, prob, thresholds):
    """Decision-curve net benefit of treating everyone with ``prob >= t``, per patient:
    TP/n - FP/n * t / (1 - t) (Vickers & Elkin 2006). ``t`` is the risk at which a clinician
    is indifferent, so a false positive costs t / (1 - t) true positives."""
    y, prob = _probabilities(y, prob)
    t = np.asarray(thresholds, dtype=np.float64)
    if np.any(t <= 0) or np.any(t >= 1):
        raise ValueError("threshold probabilities must lie strictly between 0 and 1")
    called = prob[None, :] >= t.reshape(-1, 1)
    tp = (called & (y == 1)).sum(axis=1) / len(y)
    fp = (called & (y == 0)).sum(axis=1) / len(y)
    out = tp - fp * t.ravel() / (1 - t.ravel())
    return float(out[0]) if t.ndim == 0 else out.reshape(t.shape)


def net_benefit_treat_all(prevalence: float, thresholds):
    """Net benefit of treating everyone: prevalence - (1 - prevalence) * t / (1 - t)
    (treating no one has net benefit 0 at every threshold)."""
    t = np.asarray(thresholds, dtype=np.float64)
    if np.any(t <= 0) or np.any(t >= 1):
        raise ValueError("threshold probabilities must lie strictly between 0 and 1")
    if not 0 <= prevalence <= 1:
        raise ValueError(f"prevalence must lie in [0, 1], got {prevalence}")
    out = prevalence - (1 - prevalence) * t / (1 - t)
    return float(out) if out.ndim == 0 else out


# --- survival ----------------------------------------------------------------------------------

def kaplan_meier(time, event) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier survival curve: ``(event times, S(t) just after each, number at risk)``.

    ``event`` is 1 for an observed event (death) and 0 for a censored patient (still alive when
    last seen). At each distinct event time t, S drops by the factor 1 - d_t / n_t, where n_t
    patients were still followed just before t; a patient censored at t counts as at risk at t."""
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event)
    if time.ndim != 1 or time.shape != event.shape or len(time) == 0:
        raise ValueError(f"time and event must be non-empty 1-D arrays of one length, got {time.shape} and {event.shape}")
    if not np.all(np.isin(event, (0, 1))):
        raise ValueError("event must be 1 (event observed) or 0 (censored)")
    if np.any(time < 0) or not np.all(np.isfinite(time)):
        raise ValueError("times must be finite and non-negative")
    event_times = np.unique(time[event == 1])
    at_risk = np.array([np.sum(time >= t) for t in event_times])
    deaths = np.array([np.sum((time == t) & (event == 1)) for t in event_times])
    return event_times, np.cumprod(1 - deaths / at_risk), at_risk


# --- imaging -----------------------------------------------------------------------------------

def to_hounsfield(dataset) -> np.ndarray:
    """A DICOM CT slice's pixels in Hounsfield units: stored value * RescaleSlope + RescaleIntercept
    (air is about -1000 HU, water 0, bone several hundred and more)."""
    if not hasattr(dataset, "pixel_array"):
        raise TypeError(f"expected a pydicom Dataset with pixel data, got {type(dataset).__name__}")
    slope = float(getattr(dataset, "RescaleSlope", 1.0))
    intercept = float(getattr(dataset, "RescaleIntercept", 0.0))
    return dataset.pixel_array.astype(np.float64) * slope + intercept


def window_level(image, center: float, width: float) -> np.ndarray:
    """Grey levels in [0, 1] for display: values below center - width/2 are black, above
    center + width/2 white, linear in between (the radiologist's window/level)."""
    if width <= 0:
        raise ValueError(f"the window width must be positive, got {width}")
    image = np.asarray(image, dtype=np.float64)
    return np.clip((image - (center - width / 2)) / width, 0.0, 1.0)


def dice(pred, target, labels=None):
    """Dice overlap 2|A ∩ B| / (|A| + |B|) of two label maps, for one label or each of ``labels``.

    With ``labels=None`` both inputs are read as binary masks (nonzero = inside). Two empty
    masks agree perfectly: Dice 1 by convention."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"prediction and target must have one shape, got {pred.shape} and {target.shape}")

    def one(a, b):
        total = a.sum() + b.sum()
        return 1.0 if total == 0 else float(2 * np.sum(a & b) / total)

    if labels is None:
        return one(pred != 0, target != 0)
    if np.ndim(labels) == 0:
        return one(pred == labels, target == labels)
    return np.array([one(pred == k, target == k) for k in labels])
