"""Each checker of section 8.3 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests
from scipy.stats import norm

from utils import ecommerce as ec


def fm_pairwise(X, V):
    return 0.5 * np.sum((X @ V) ** 2 - (X**2) @ (V**2), axis=1)


def expected_calibration_error(y, p, n_bins=10):
    return ec.expected_calibration_error(y, p, n_bins)


def rule_metrics(baskets, antecedent, consequent):
    a = baskets[list(antecedent)].all(axis=1).to_numpy()
    c = baskets[list(consequent)].all(axis=1).to_numpy()
    s = np.mean(a & c)
    return s, s / a.mean(), s / a.mean() / c.mean()


def newsvendor_cost(order, demand, underage, overage):
    return ec.newsvendor_cost(order, demand, underage, overage)


def sample_size_per_arm(sd, delta, alpha=0.05, power=0.8):
    return ec.sample_size_per_arm(sd, delta, alpha, power)


REFERENCE = {"8.3.1": fm_pairwise, "8.3.2": expected_calibration_error, "8.3.3": rule_metrics,
             "8.3.4": newsvendor_cost, "8.3.5": sample_size_per_arm}


def fm_no_diagonal(X, V):  # forgets to subtract the i = j terms
    return 0.5 * np.sum((X @ V) ** 2, axis=1)


def fm_no_half(X, V):
    return 2 * fm_pairwise(X, V)


def fm_wrong_square(X, V):  # squares after summing in the second term
    return 0.5 * np.sum((X @ V) ** 2 - (X @ V**2) ** 2, axis=1)


def fm_wrong(X, V):
    return fm_pairwise(X, V) + 0.1


def ece_unweighted(y, p, n_bins=10):
    bins = np.minimum((np.asarray(p) * n_bins).astype(int), n_bins - 1)
    return float(np.mean([abs(y[bins == b].mean() - p[bins == b].mean()) for b in np.unique(bins)]))


def ece_overall(y, p, n_bins=10):
    return float(abs(np.mean(y) - np.mean(p)))


def ece_last_bin(y, p, n_bins=10):  # p = 1 falls outside the bins
    bins = (np.asarray(p) * n_bins).astype(int)
    counts = np.zeros(n_bins)
    for b in bins:
        counts[b] += 1
    return ec.expected_calibration_error(y, p, n_bins)


def ece_squared(y, p, n_bins=10):
    bins = np.minimum((np.asarray(p) * n_bins).astype(int), n_bins - 1)
    return float(sum(np.mean(bins == b) * (y[bins == b].mean() - p[bins == b].mean()) ** 2 for b in np.unique(bins)))


def rules_confidence_swapped(baskets, antecedent, consequent):
    s, conf, lift = rule_metrics(baskets, antecedent, consequent)
    c = baskets[list(consequent)].all(axis=1).mean()
    return s, s / c, lift


def rules_any(baskets, antecedent, consequent):  # an order supports a side if it holds ANY item
    a = baskets[list(antecedent)].any(axis=1).to_numpy()
    c = baskets[list(consequent)].any(axis=1).to_numpy()
    s = np.mean(a & c)
    return s, s / a.mean(), s / a.mean() / c.mean()


def rules_two(baskets, antecedent, consequent):
    return rule_metrics(baskets, antecedent, consequent)[:2]


def nv_swapped(order, demand, underage, overage):
    return ec.newsvendor_cost(order, demand, overage, underage)


def nv_total(order, demand, underage, overage):
    return ec.newsvendor_cost(order, demand, underage, overage) * len(demand)


def nv_abs(order, demand, underage, overage):
    return float(np.mean(np.abs(np.asarray(order) - np.asarray(demand)))) * underage


def n_one_arm(sd, delta, alpha=0.05, power=0.8):
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return int(np.ceil(z**2 * sd**2 / delta**2))


def n_one_sided(sd, delta, alpha=0.05, power=0.8):
    z = norm.ppf(1 - alpha) + norm.ppf(power)
    return int(np.ceil(2 * z**2 * sd**2 / delta**2))


def n_not_rounded(sd, delta, alpha=0.05, power=0.8):
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return 2 * z**2 * sd**2 / delta**2


def n_no_power(sd, delta, alpha=0.05, power=0.8):
    z = norm.ppf(1 - alpha / 2)
    return int(np.ceil(2 * z**2 * sd**2 / delta**2))


WRONG = [
    ("8.3.1", fm_no_diagonal, "i = j"),
    ("8.3.1", fm_no_half, "factor 1/2"),
    ("8.3.1", fm_wrong_square, "square each entry first"),
    ("8.3.1", fm_wrong, "the check allows"),
    ("8.3.2", ece_unweighted, "weighted average"),
    ("8.3.2", ece_overall, "overall means"),
    ("8.3.2", ece_last_bin, "last bin"),
    ("8.3.2", ece_squared, "the check allows"),
    ("8.3.3", rules_confidence_swapped, "ANTECEDENT"),
    ("8.3.3", rules_any, "the check allows"),
    ("8.3.3", rules_two, "3 numbers"),
    ("8.3.4", nv_swapped, "swapped"),
    ("8.3.4", nv_total, "mean per period"),
    ("8.3.4", nv_abs, "the check allows"),
    ("8.3.5", n_one_arm, "2 * sd^2"),
    ("8.3.5", n_one_sided, "two-sided"),
    ("8.3.5", n_not_rounded, "round UP"),
    ("8.3.5", n_no_power, "rounded up"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
