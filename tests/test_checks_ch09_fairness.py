"""Each checker of section 9.12 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests


def dp_difference(y_pred, groups):
    rates = [np.mean(y_pred[groups == g]) for g in np.unique(groups)]
    return max(rates) - min(rates)


def _gaps(y_true, y_pred, groups):
    tpr = [np.mean(y_pred[(groups == g) & (y_true == 1)]) for g in np.unique(groups)]
    fpr = [np.mean(y_pred[(groups == g) & (y_true == 0)]) for g in np.unique(groups)]
    return max(tpr) - min(tpr), max(fpr) - min(fpr)


def eo_difference(y_true, y_pred, groups):
    return max(_gaps(y_true, y_pred, groups))


def implied_fpr(base_rate, ppv, fnr):
    return base_rate / (1 - base_rate) * (1 - ppv) / ppv * (1 - fnr)


def equal_opportunity_thresholds(y_true, score, groups, target_tpr):
    out = {}
    for g in np.unique(groups).tolist():
        pos = np.sort(score[(groups == g) & (y_true == 1)])[::-1]
        k = int(np.argmax(np.arange(1, len(pos) + 1) / len(pos) >= target_tpr - 1e-12))
        out[g] = float(pos[k])
    return out


REFERENCE = {"9.12.1": dp_difference, "9.12.2": eo_difference, "9.12.3": implied_fpr,
             "9.12.4": equal_opportunity_thresholds}


def dp_ratio(y_pred, groups):
    rates = [np.mean(y_pred[groups == g]) for g in np.unique(groups)]
    return min(rates) / max(rates)


def dp_first_two(y_pred, groups):
    g = list(dict.fromkeys(groups.tolist()))
    return abs(np.mean(y_pred[groups == g[0]]) - np.mean(y_pred[groups == g[1]]))


def dp_counts(y_pred, groups):
    counts = [np.sum(y_pred[groups == g]) for g in np.unique(groups)]
    return max(counts) - min(counts)


def eo_accuracy(y_true, y_pred, groups):
    acc = [np.mean(y_pred[groups == g] == y_true[groups == g]) for g in np.unique(groups)]
    return max(acc) - min(acc)


def eo_all_people(y_true, score, groups, target_tpr):
    """Threshold on the share of all the group's people, not of its positives."""
    return {g: float(np.quantile(score[groups == g], 1 - target_tpr)) for g in np.unique(groups).tolist()}


def eo_one_lower(y_true, score, groups, target_tpr):
    """One positive too many: a valid threshold, but not the highest."""
    out = {}
    for g in np.unique(groups).tolist():
        pos = np.sort(score[(groups == g) & (y_true == 1)])[::-1]
        k = int(np.argmax(np.arange(1, len(pos) + 1) / len(pos) >= target_tpr - 1e-12))
        out[g] = float(pos[min(k + 1, len(pos) - 1)])
    return out


def eo_one_higher(y_true, score, groups, target_tpr):
    out = equal_opportunity_thresholds(y_true, score, groups, target_tpr)
    return {g: t + 1e-9 for g, t in out.items()}


WRONG = [
    ("9.12.1", dp_ratio, "ratio"),
    ("9.12.1", dp_first_two, "first two groups"),
    ("9.12.1", dp_counts, "counts"),
    ("9.12.1", lambda y_pred, groups: -dp_difference(y_pred, groups), "negative"),
    ("9.12.1", lambda y_pred, groups: dp_difference(y_pred, groups) + 0.01, "should be"),
    ("9.12.1", lambda y_pred, groups: "big", "should be a number"),
    ("9.12.2", lambda y_true, y_pred, groups: _gaps(y_true, y_pred, groups)[0], "TPR gap only"),
    ("9.12.2", lambda y_true, y_pred, groups: _gaps(y_true, y_pred, groups)[1], "FPR gap only"),
    ("9.12.2", lambda y_true, y_pred, groups: np.mean(_gaps(y_true, y_pred, groups)), "mean of the two"),
    ("9.12.2", lambda y_true, y_pred, groups: sum(_gaps(y_true, y_pred, groups)), "sum of the two"),
    ("9.12.2", lambda y_true, y_pred, groups: min(_gaps(y_true, y_pred, groups)), "take the larger"),
    ("9.12.2", eo_accuracy, "accuracy gap"),
    ("9.12.2", lambda y_true, y_pred, groups: eo_difference(y_true, y_pred, groups) * 1.01, "should be"),
    ("9.12.3", lambda p, ppv, fnr: p * (1 - ppv) / ppv * (1 - fnr), "odds p / (1 - p)"),
    ("9.12.3", lambda p, ppv, fnr: (1 - ppv) / ppv * (1 - fnr), "left out"),
    ("9.12.3", lambda p, ppv, fnr: p / (1 - p) * ppv / (1 - ppv) * (1 - fnr), "PPV odds"),
    ("9.12.3", lambda p, ppv, fnr: p / (1 - p) * (1 - ppv) / ppv * fnr, "1 - FNR"),
    ("9.12.3", lambda p, ppv, fnr: (1 - p) / p * (1 - ppv) / ppv * (1 - fnr), "inverted the base-rate"),
    ("9.12.3", lambda p, ppv, fnr: round(implied_fpr(p, ppv, fnr), 3), "should be"),
    ("9.12.3", lambda p, ppv, fnr: implied_fpr(p, ppv, fnr) / 0.0 if ppv > 0.8 else implied_fpr(p, ppv, fnr),
     "ZeroDivisionError"),
    ("9.12.4", eo_all_people, "positives"),
    ("9.12.4", eo_one_lower, "return the highest"),
    ("9.12.4", eo_one_higher, "below the target"),
    ("9.12.4", lambda y_true, score, groups, t: 0.5, "should return a dict"),
    ("9.12.4", lambda y_true, score, groups, t: {"Black": 0.5}, "no threshold for group"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
