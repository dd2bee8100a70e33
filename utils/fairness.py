"""Group fairness metrics written out (section 9.12), checked there against ``fairlearn``.

Every metric compares *groups* (for instance defendants by race, applicants by ethnicity)
on one binary decision ``y_pred`` (1 = flagged high risk, denied, ...) and the outcome
``y_true`` that later happened:

- :func:`group_rates`: per group the base rate, selection rate, TPR, FPR, FNR, PPV, accuracy;
- :func:`demographic_parity_difference`: the largest gap in selection rates;
- :func:`equalized_odds_difference`: the larger of the TPR gap and the FPR gap (as fairlearn);
- :func:`calibration_by_group`, :func:`calibration_gap`: P(outcome | score) per group;
- :func:`chouldechova_fpr`: the false-positive rate forced by a base rate, a PPV and an FNR;
- :func:`predict_with_thresholds`, :func:`fit_group_thresholds`: one threshold per group.
"""
from __future__ import annotations

import numpy as np


def _as_groups(groups, n: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be a 1-D array (one group label per person), got shape {groups.shape}")
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries but there are {n} people: one label per person")
    if len(np.unique(groups)) < 2:
        raise ValueError(f"a fairness metric compares groups, but groups holds one value only: {np.unique(groups)}")
    return groups


def _binary(y, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of 0/1 values, got shape {y.shape}")
    if len(y) == 0:
        raise ValueError(f"{what} is empty: there is nobody to measure")
    if y.dtype == bool:
        return y.astype(np.int64)
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError(f"{what} must hold 0 and 1 only (a decision, not a score), got values {np.unique(y)[:5]}; "
                         "threshold a score first, e.g. (score >= 0.5)")
    return y.astype(np.int64)


def _pair(y_true, y_pred, groups):
    y_true, y_pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}")
    return y_true, y_pred, _as_groups(groups, len(y_true))


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def rates(y_true, y_pred) -> dict[str, float]:
    """Base rate, selection rate, TPR, FPR, FNR, PPV and accuracy of one decision on one group."""
    y_true, y_pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    tp = int(np.sum((y_pred == 1) & (y_true == 1)))
    fp = int(np.sum((y_pred == 1) & (y_true == 0)))
    fn = int(np.sum((y_pred == 0) & (y_true == 1)))
    n = len(y_true)
    return dict(n=n, base_rate=float(y_true.mean()), selection_rate=float(y_pred.mean()),
                tpr=_ratio(tp, tp + fn), fpr=_ratio(fp, n - tp - fn), fnr=_ratio(fn, tp + fn),
                ppv=_ratio(tp, tp + fp), accuracy=float(np.mean(y_true == y_pred)))


def group_rates(y_true, y_pred, groups) -> dict:
    """``{group: rates(...)}`` for every group, in sorted order of the labels."""
    y_true, y_pred, groups = _pair(y_true, y_pred, groups)
    return {g: rates(y_true[groups == g], y_pred[groups == g]) for g in np.unique(groups).tolist()}


def _gap(per_group: dict, key: str) -> float:
    values = [r[key] for r in per_group.values()]
    return float(max(values) - min(values))


def demographic_parity_difference(y_true, y_pred, groups) -> float:
    """max - min over groups of the selection rate P(y_pred = 1 | group); 0 is parity.

    ``y_true`` is not used (the argument order is fairlearn's)."""
    y_pred = _binary(y_pred, "y_pred")
    groups = _as_groups(groups, len(y_pred))
    return _gap({g: {"s": y_pred[groups == g].mean()} for g in np.unique(groups)}, "s")


def equalized_odds_difference(y_true, y_pred, groups) -> float:
    """max(TPR gap, FPR gap) across groups (fairlearn's default ``agg="worst_case"``)."""
    per_group = group_rates(y_true, y_pred, groups)
    return max(_gap(per_group, "tpr"), _gap(per_group, "fpr"))


def calibration_by_group(y_true, score, groups, bins=None) -> dict:
    """``{group: (bin values, observed outcome rate, count)}``.

    With ``bins=None`` every distinct score value is its own bin (a decile score 1..10);
    otherwise ``bins`` are the edges of intervals (a, b] of a probability, like
    ``np.linspace(0, 1, 11)``. A score is calibrated *within groups* (sufficient) when
    people with the same score reoffend (default, ...) at the same rate whatever their group."""
    y_true = _binary(y_true, "y_true")
    score = np.asarray(score, dtype=np.float64)
    if score.shape != y_true.shape:
        raise ValueError(f"score has shape {score.shape} but y_true has {y_true.shape}: one score per person")
    groups = _as_groups(groups, len(y_true))
    if bins is None:
        values = np.unique(score)
        index = np.searchsorted(values, score)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be increasing edges, at least two, e.g. np.linspace(0, 1, 11)")
        values = (edges[1:] + edges[:-1]) / 2
        index = np.clip(np.searchsorted(edges[1:-1], score, side="left"), 0, len(values) - 1)
    out = {}
    for g in np.unique(groups).tolist():
        k = groups == g
        count = np.bincount(index[k], minlength=len(values))
        hits = np.bincount(index[k], weights=y_true[k], minlength=len(values))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[g] = (values, hits / count, count)
    return out


def calibration_gap(y_true, score, groups, bins=None, min_count: int = 10) -> float:
    """Mean absolute gap between the two groups' observed rates at the same score, weighted by
    how many people share that score (bins with fewer than ``min_count`` in a group skipped)."""
    table = calibration_by_group(y_true, score, groups, bins)
    if len(table) != 2:
        raise ValueError(f"calibration_gap compares two groups, got {len(table)}: {list(table)}")
    (_, obs_a, n_a), (_, obs_b, n_b) = table.values()
    keep = (n_a >= min_count) & (n_b >= min_count)
    if not keep.any():
        raise ValueError(f"no score bin has at least {min_count} people of both groups")
    w = (n_a + n_b)[keep]
    return float(np.sum(w * np.abs(obs_a[keep] - obs_b[keep])) / w.sum())


def chouldechova_fpr(base_rate, ppv, fnr):
    """The false-positive rate that a base rate p, a PPV and an FNR leave no choice about:

    FPR = p / (1 - p) * (1 - PPV) / PPV * (1 - FNR)   (Chouldechova, 2017).

    Two groups with equal PPV and FNR but different p therefore have different FPRs."""
    p, ppv, fnr = (np.asarray(v, dtype=np.float64) for v in (base_rate, ppv, fnr))
    for name, v in (("base_rate", p), ("ppv", ppv), ("fnr", fnr)):
        if np.any(v < 0) or np.any(v > 1):
            raise ValueError(f"{name} must lie in [0, 1], got {v}")
    if np.any(p >= 1) or np.any(ppv <= 0):
        raise ValueError("the identity needs base_rate < 1 and ppv > 0")
    out = p / (1 - p) * (1 - ppv) / ppv * (1 - fnr)
    return float(out) if out.ndim == 0 else out


def predict_with_thresholds(score, groups, thresholds: dict) -> np.ndarray:
    """1 where ``score >= thresholds[group]``, else 0: one cut-off per group."""
    score = np.asarray(score, dtype=np.float64)
    groups = np.asarray(groups)
    if score.shape != groups.shape or score.ndim != 1:
        raise ValueError(f"score and groups must be 1-D of the same length, got {score.shape} and {groups.shape}")
    missing = sorted(set(np.unique(groups).tolist()) - set(thresholds))
    if missing:
        raise ValueError(f"no threshold given for group(s) {missing}; thresholds has {sorted(thresholds)}")
    cut = np.array([thresholds[g] for g in groups.tolist()], dtype=np.float64)
    return (score >= cut).astype(np.int64)


def fit_group_thresholds(y_true, score, groups, max_gap: float, grid=None) -> tuple[dict, float]:
    """The two groups' thresholds with the highest accuracy whose equalised-odds difference
    is at most ``max_gap``, searched over every pair of ``grid`` values (on the data given:
    use a validation split). Returns ``(thresholds, accuracy)``."""
    y_true = _binary(y_true, "y_true")
    score = np.asarray(score, dtype=np.float64)
    groups = _as_groups(groups, len(y_true))
    labels = np.unique(groups).tolist()
    if len(labels) != 2:
        raise ValueError(f"fit_group_thresholds searches pairs of thresholds: it needs two groups, got {len(labels)}")
    grid = np.linspace(0, 1, 101) if grid is None else np.asarray(grid, dtype=np.float64)
    stats = []
    for g in labels:
        y, s = y_true[groups == g], score[groups == g]
        called = s[None, :] >= grid[:, None]  # (thresholds, people)
        tp = (called & (y == 1)).sum(1)
        fp = (called & (y == 0)).sum(1)
        stats.append(dict(tpr=tp / max(1, y.sum()), fpr=fp / max(1, (1 - y).sum()),
                          correct=tp + (y == 0).sum() - fp))
    a, b = stats
    gap = np.maximum(np.abs(a["tpr"][:, None] - b["tpr"][None, :]), np.abs(a["fpr"][:, None] - b["fpr"][None, :]))
    acc = (a["correct"][:, None] + b["correct"][None, :]) / len(y_true)
    acc = np.where(gap <= max_gap + 1e-12, acc, -1.0)
    i, j = np.unravel_index(np.argmax(acc), acc.shape)
    if acc[i, j] < 0:
        raise ValueError(f"no pair of thresholds on the grid reaches an equalised-odds difference <= {max_gap}")
    return {labels[0]: float(grid[i]), labels[1]: float(grid[j])}, float(acc[i, j])
