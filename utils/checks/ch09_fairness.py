"""Checkers for section 9.12 (fairness: demographic parity, equalised odds, Chouldechova's identity,
equal-opportunity thresholds)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, number

ATOL = 1e-9


def _cases(seed: int):
    """Random decisions for 2 and 3 groups, labels as strings and as integers, unequal group sizes."""
    rng = np.random.default_rng(seed)
    out = []
    for labels, sizes in ((["Black", "white"], (120, 80)), ([0, 1, 2], (60, 90, 50)), (["a", "b"], (30, 300))):
        groups = np.concatenate([[lab] * n for lab, n in zip(labels, sizes)])
        base = np.concatenate([np.full(n, 0.2 + 0.25 * k) for k, n in enumerate(sizes)])
        y_true = (rng.random(len(groups)) < base).astype(int)
        y_pred = (rng.random(len(groups)) < 0.3 + 0.4 * y_true + 0.1 * (base > 0.3)).astype(int)
        # groups interleaved as in real data, except the 3-group case: there the first two groups
        # are not the extremes, so comparing only them is caught
        order = np.arange(len(groups)) if len(labels) == 3 else rng.permutation(len(groups))
        out.append((y_true[order], y_pred[order], groups[order]))
    return out


def _rate(x, mask):
    return float(np.mean(x[mask])) if np.any(mask) else float("nan")


def _per_group(y_true, y_pred, groups):
    labels = list(dict.fromkeys(groups.tolist()))
    sel = [_rate(y_pred, groups == g) for g in labels]
    tpr = [_rate(y_pred, (groups == g) & (y_true == 1)) for g in labels]
    fpr = [_rate(y_pred, (groups == g) & (y_true == 0)) for g in labels]
    acc = [_rate(y_pred == y_true, groups == g) for g in labels]
    return sel, tpr, fpr, acc


def _gap(values):
    return max(values) - min(values)


@exercise("9.12.1", "demographic parity difference")
def _check_dp(dp_difference) -> str:
    for y_true, y_pred, groups in _cases(912):
        sel, _, _, _ = _per_group(y_true, y_pred, groups)
        what = f"dp_difference for {len(sel)} groups ({len(groups)} people)"
        got = number(dp_difference(y_pred.copy(), groups.copy()), what)
        expected = _gap(sel)
        if abs(got - expected) <= ATOL:
            continue
        if abs(got - min(sel) / max(sel)) <= ATOL or abs(got - max(sel) / min(sel)) <= ATOL:
            raise Wrong(f"{what}: you returned a ratio of selection rates ({got:.4f}); the difference is "
                        f"max - min = {expected:.4f} (the ratio is the 'disparate impact' measure)")
        if abs(abs(got) - abs(sel[0] - sel[1])) <= ATOL and len(sel) > 2:
            raise Wrong(f"{what}: you compared the first two groups only ({got:.4f}); take max - min over "
                        f"all {len(sel)} groups = {expected:.4f}")
        if abs(got + expected) <= ATOL or (len(sel) == 2 and abs(got - (sel[0] - sel[1])) <= ATOL and got < 0):
            raise Wrong(f"{what}: {got:.4f} is negative; the difference is max - min, never below 0")
        counts = [float(np.sum(y_pred[groups == g])) for g in dict.fromkeys(groups.tolist())]
        if abs(got - _gap(counts)) <= ATOL:
            raise Wrong(f"{what}: you compared counts of selected people ({got:g}); compare shares "
                        f"(selection rates), max - min = {expected:.4f}")
        raise not_close(what, got, expected, atol=ATOL, hint="max minus min over groups of mean(y_pred)")
    return "3 data sets (2 and 3 groups, string and integer labels) within 1e-9"


@exercise("9.12.2", "equalised odds difference")
def _check_eo(eo_difference) -> str:
    for y_true, y_pred, groups in _cases(9122):
        _, tpr, fpr, acc = _per_group(y_true, y_pred, groups)
        what = f"eo_difference for {len(tpr)} groups ({len(groups)} people)"
        got = number(eo_difference(y_true.copy(), y_pred.copy(), groups.copy()), what)
        expected = max(_gap(tpr), _gap(fpr))
        if abs(got - expected) <= ATOL:
            continue
        for wrong, reason in ((_gap(tpr), "the TPR gap only (that is equal opportunity)"),
                              (_gap(fpr), "the FPR gap only"),
                              ((_gap(tpr) + _gap(fpr)) / 2, "the mean of the two gaps"),
                              (_gap(tpr) + _gap(fpr), "the sum of the two gaps"),
                              (min(_gap(tpr), _gap(fpr)), "the smaller gap"),
                              (_gap(acc), "the accuracy gap")):
            if abs(got - wrong) <= ATOL and abs(wrong - expected) > ATOL:
                raise Wrong(f"{what}: you returned {reason}, {got:.4f}; equalised odds asks for both, so take "
                            f"the larger of the TPR gap ({_gap(tpr):.4f}) and the FPR gap ({_gap(fpr):.4f})")
        raise not_close(what, got, expected, atol=ATOL, hint="max(TPR gap, FPR gap), each max - min over groups")
    return "3 data sets (2 and 3 groups) within 1e-9, the larger of the TPR and FPR gaps"


@exercise("9.12.3", "the FPR forced by base rate, PPV and FNR")
def _check_implied_fpr(implied_fpr) -> str:
    cases = [(0.523, 0.650, 0.285), (0.391, 0.595, 0.496), (0.6, 0.595, 0.496), (0.1, 0.9, 0.2), (0.5, 0.5, 0.0)]
    for p, ppv, fnr in cases:
        what = f"implied_fpr({p}, {ppv}, {fnr})"
        got = number(implied_fpr(p, ppv, fnr), what)
        expected = p / (1 - p) * (1 - ppv) / ppv * (1 - fnr)
        if abs(got - expected) <= 1e-12 * max(1.0, abs(expected)):
            continue
        for wrong, reason in ((p * (1 - ppv) / ppv * (1 - fnr), "used p instead of the odds p / (1 - p)"),
                              ((1 - ppv) / ppv * (1 - fnr), "left out the base-rate odds p / (1 - p)"),
                              (p / (1 - p) * ppv / (1 - ppv) * (1 - fnr), "inverted the PPV odds: it is (1 - PPV) / PPV"),
                              (p / (1 - p) * (1 - ppv) / ppv * fnr, "used FNR where the identity has 1 - FNR (the TPR)"),
                              ((1 - p) / p * (1 - ppv) / ppv * (1 - fnr), "inverted the base-rate odds: it is p / (1 - p)")):
            if abs(got - wrong) <= 1e-12 * max(1.0, abs(wrong)) and abs(wrong - expected) > 1e-9:
                raise Wrong(f"{what} = {got:.6f}: you {reason}; expected {expected:.6f}")
        raise not_close(what, got, expected, rtol=1e-12, atol=1e-12,
                        named="p/(1-p) * (1-PPV)/PPV * (1-FNR)")
    return f"{len(cases)} cases within a relative 1e-12, COMPAS's own rates among them"


def _tpr(y, s, t):
    return float(np.mean(s[y == 1] >= t))


@exercise("9.12.4", "equal-opportunity thresholds")
def _check_eo_thresholds(equal_opportunity_thresholds) -> str:
    rng = np.random.default_rng(9124)
    n_checked = 0
    for labels, target in ((["Black", "white"], 0.7), (["x", "y", "z"], 0.5), (["a", "b"], 0.95), (["a", "b"], 0.6)):
        groups = np.repeat(labels, [150 + 40 * k for k in range(len(labels))])
        y = (rng.random(len(groups)) < 0.4).astype(int)
        score = np.clip(0.25 * y + rng.normal(0.4, 0.2, len(groups)) + 0.05 * (groups == labels[0]), 0, 1)
        what = f"equal_opportunity_thresholds(target_tpr={target}) on {len(labels)} groups"
        got = equal_opportunity_thresholds(y.copy(), score.copy(), groups.copy(), target)
        if not isinstance(got, dict):
            raise Wrong(f"{what} should return a dict {{group: threshold}}, got {type(got).__name__}")
        missing = [g for g in labels if g not in got]
        if missing:
            raise Wrong(f"{what} has no threshold for group(s) {missing}; keys returned: {list(got)}")
        for g in labels:
            k = groups == g
            yg, sg = y[k], score[k]
            t = number(got[g], f"the threshold of group {g!r}")
            reached = _tpr(yg, sg, t)
            if reached < target - 1e-12:
                share_all = float(np.mean(sg >= t))
                hint = (" (you counted the share of ALL the group's people above it, not of its positives)"
                        if share_all >= target - 1e-12 else "")
                raise Wrong(f"{what}: group {g!r} threshold {t:.6f} gives TPR {reached:.4f}, below the target "
                            f"{target}{hint}; the TPR counts only people with y_true == 1")
            higher = sg[(yg == 1) & (sg > t)]
            if len(higher) and _tpr(yg, sg, higher.min()) >= target - 1e-12:
                share_all = float(np.mean(sg >= t))
                hint = (f" (about {share_all:.0%} of ALL the group's people score above yours: the TPR counts "
                        "only its positives, y_true == 1)" if abs(share_all - target) < 0.02 else "")
                raise Wrong(f"{what}: group {g!r} threshold {t:.6f} reaches TPR {reached:.4f}, but the higher "
                            f"threshold {higher.min():.6f} still reaches the target {target} "
                            f"(TPR {_tpr(yg, sg, higher.min()):.4f}); return the highest one{hint}")
            n_checked += 1
    return f"{n_checked} groups in 4 data sets: each threshold reaches the target TPR and is the highest that does"
