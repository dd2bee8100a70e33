"""Checkers for section 8.3 (e-commerce: FM identity, ECE, rule metrics, newsvendor cost, A/B sample size)."""
from __future__ import annotations

import numpy as np

from utils import ecommerce as _ec
from utils.checks import Wrong, exercise, not_close, number, shaped_array


_array = shaped_array  # one helper for chapter 8's checkers, in utils.checks


# --- 8.3.1 FM pairwise term --------------------------------------------------------------------

@exercise("8.3.1", "factorisation-machine interactions in O(kd)")
def _check_fm(fm_pairwise) -> str:
    rng = np.random.default_rng(831)
    for n, d, k in ((1, 3, 1), (4, 10, 3), (6, 25, 5)):
        X, V = rng.normal(size=(n, d)), rng.normal(size=(d, k))
        expected = _ec.fm_pairwise_naive(X, V)
        got = _array(fm_pairwise(X.copy(), V.copy()), (n,), "fm_pairwise(X, V)")
        if np.allclose(got, expected, rtol=1e-8, atol=1e-8):
            continue
        full = 0.5 * np.sum((X @ V) ** 2, axis=1)
        if np.allclose(got, full, rtol=1e-8, atol=1e-8) or np.allclose(got, 2 * full, rtol=1e-8, atol=1e-8):
            raise Wrong("you return the square-of-sums term only: subtract sum_i v_if^2 x_i^2, which removes "
                        "the pairs of a feature with itself (i = j)")
        if np.allclose(got, 2 * expected, rtol=1e-8, atol=1e-8):
            raise Wrong("your answer is twice the expected one: the square of the sum counts each pair i < j twice, "
                        "so the identity has a factor 1/2")
        if np.allclose(got, 0.5 * np.sum((X @ V) ** 2 - (X @ V**2) ** 2, axis=1), rtol=1e-8, atol=1e-8) or \
                np.allclose(got, 0.5 * np.sum((X @ V) ** 2 - (X @ V) ** 2 / d, axis=1), rtol=1e-8, atol=1e-8):
            raise Wrong("the second term must be sum_i v_if^2 x_i^2 (square each entry first, then sum): "
                        "compute (X**2) @ (V**2)")
        worst = int(np.argmax(np.abs(got - expected)))
        raise not_close(f"for row {worst} of a {n}x{d} X with k={k}, the interaction term", got[worst],
                        expected[worst], rtol=1e-8, atol=1e-8,
                        hint="compare with the double loop sum_{i<j} <v_i, v_j> x_i x_j on a small example")
    return "three random (X, V) of different sizes, against the naive pairwise double loop"


# --- 8.3.2 ECE -----------------------------------------------------------------------------------

@exercise("8.3.2", "expected calibration error")
def _check_ece(expected_calibration_error) -> str:
    rng = np.random.default_rng(832)
    cases = [(np.array([1, 0, 1, 1]), np.array([0.95, 0.05, 1.0, 0.55]), 10)]  # p = 1.0 goes in the last bin
    for n_bins in (10, 5, 15):
        p = rng.uniform(size=200)
        y = (rng.uniform(size=200) < p**1.5).astype(int)
        cases.append((y, p, n_bins))
    for y, p, n_bins in cases:
        expected = _ec.expected_calibration_error(y, p, n_bins)
        try:
            got = number(expected_calibration_error(y.copy(), p.copy(), n_bins=n_bins),
                         "expected_calibration_error(...)")
        except IndexError:
            raise Wrong("an IndexError: a probability of exactly 1.0 must go in the last bin, not bin n_bins")
        if abs(got - expected) <= 1e-9:
            continue
        n_nonempty = len(np.unique(np.minimum((p * n_bins).astype(int), n_bins - 1)))
        unweighted = np.mean([abs(y[b].mean() - p[b].mean()) for b in
                              [np.minimum((p * n_bins).astype(int), n_bins - 1) == k for k in range(n_bins)] if b.any()])
        if abs(got - unweighted) <= 1e-9 or abs(got - unweighted * n_nonempty / n_bins) <= 1e-9:
            raise Wrong(f"you return {got:.6f}, expected {expected:.6f}: weight each bin's gap by the share of "
                        "examples in it (ECE is a weighted average, not a plain mean over bins)")
        if abs(got - abs(y.mean() - p.mean())) <= 1e-9:
            raise Wrong(f"you return {got:.6f}, the gap of the overall means; expected {expected:.6f}: "
                        "take the gap inside each bin, then the weighted sum")
        raise not_close(f"ECE with {n_bins} bins for {len(y)} examples", got, expected, atol=1e-9,
                        hint="bin by floor(p * n_bins), with p = 1 in the last bin")
    return f"{len(cases)} sets of labels and probabilities, including p = 1.0 and 5, 10 and 15 bins"


# --- 8.3.3 rule metrics --------------------------------------------------------------------------

@exercise("8.3.3", "support, confidence and lift of a rule")
def _check_rules(rule_metrics) -> str:
    import pandas as pd

    rng = np.random.default_rng(833)
    table = pd.DataFrame(rng.uniform(size=(300, 5)) < [0.4, 0.3, 0.2, 0.5, 0.1], columns=list("abcde"))
    table["c"] |= table["a"] & (rng.uniform(size=300) < 0.4)
    cases = [(["a"], ["c"]), (["c"], ["a"]), (["a", "b"], ["d"]), (["e"], ["b", "d"])]
    for antecedent, consequent in cases:
        expected = _ec.rule_metrics(table, antecedent, consequent)
        out = rule_metrics(table.copy(), list(antecedent), list(consequent))
        try:
            got = [float(v) for v in out]
        except (TypeError, ValueError):
            raise Wrong(f"rule_metrics should return a tuple (support, confidence, lift), got {type(out).__name__}")
        if len(got) != 3:
            raise Wrong(f"rule_metrics should return 3 numbers (support, confidence, lift), got {len(got)}")
        if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        rule = f"{'+'.join(antecedent)} => {'+'.join(consequent)}"
        if abs(got[1] - expected[1] * np.mean(table[list(antecedent)].all(axis=1)) /
               np.mean(table[list(consequent)].all(axis=1))) < 1e-9 and abs(got[1] - expected[1]) > 1e-9:
            raise Wrong(f"for {rule} your confidence is {got[1]:.6f}, expected {expected[1]:.6f}: confidence divides "
                        "the pair's support by the support of the ANTECEDENT, P(consequent | antecedent)")
        for i, what in enumerate(("support", "confidence", "lift")):
            if not np.isclose(got[i], expected[i], rtol=1e-9, atol=1e-12):
                raise not_close(f"the {what} of {rule}", got[i], expected[i], rtol=1e-9, atol=1e-12,
                                hint="support = P(all items of both sides), confidence = support / P(antecedent), "
                                     "lift = confidence / P(consequent)")
    return f"{len(cases)} rules on 300 random baskets, including multi-item sides"


# --- 8.3.4 newsvendor cost ------------------------------------------------------------------------

@exercise("8.3.4", "newsvendor cost")
def _check_newsvendor(newsvendor_cost) -> str:
    rng = np.random.default_rng(834)
    demand = rng.poisson(100, size=40).astype(float)
    cases = [(np.full(40, 100.0), 4.0, 1.0), (demand + rng.normal(0, 10, 40).round(), 4.0, 1.0),
             (demand - 5, 1.0, 3.0), (demand, 2.0, 2.0)]
    for order, cu, co in cases:
        expected = _ec.newsvendor_cost(order, demand, cu, co)
        got = number(newsvendor_cost(order.copy(), demand.copy(), cu, co), "newsvendor_cost(...)")
        if abs(got - expected) <= 1e-9 * max(1, abs(expected)):
            continue
        if abs(got - _ec.newsvendor_cost(order, demand, co, cu)) <= 1e-9 * max(1, abs(expected)):
            raise Wrong(f"you return {got:.4f}, expected {expected:.4f}: the costs are swapped; `underage` is paid "
                        "per unit of demand ABOVE the order (a lost sale), `overage` per unit left over")
        if abs(got - expected * len(demand)) <= 1e-9 * max(1, abs(expected * len(demand))):
            raise Wrong(f"you return {got:.4f}, the total over {len(demand)} periods: return the mean per period")
        raise not_close(f"the mean cost with underage {cu:g}, overage {co:g}", got, expected, rtol=1e-9,
                        hint="cost = underage * max(demand - order, 0) + overage * max(order - demand, 0), averaged")
    return f"{len(cases)} order plans against 40 periods of demand, with different costs"


# --- 8.3.5 sample size -----------------------------------------------------------------------------

@exercise("8.3.5", "sample size of an A/B test")
def _check_sample_size(sample_size_per_arm) -> str:
    cases = [(30.6, 0.766, 0.05, 0.8), (1.0, 0.1, 0.05, 0.9), (10.0, 2.0, 0.01, 0.8), (5.0, -0.5, 0.05, 0.8)]
    for sd, delta, alpha, power in cases:
        expected = _ec.sample_size_per_arm(sd, delta, alpha, power)
        out = sample_size_per_arm(sd, delta, alpha=alpha, power=power)
        got = number(out, "sample_size_per_arm(...)")
        if got == expected:
            continue
        if abs(got - expected / 2) <= 1:
            raise Wrong(f"you return {got:g}, expected {expected} (the check allows no difference): the variance of a "
                        "difference of two means has two parts, so the formula has 2 * sd^2")
        from scipy.stats import norm
        one_sided = int(np.ceil(2 * (norm.ppf(1 - alpha) + norm.ppf(power)) ** 2 * sd**2 / delta**2))
        if got == one_sided:
            raise Wrong(f"you return {got:g}, expected {expected} (the check allows no difference): the test is two-sided, "
                        "use z at 1 - alpha/2")
        if abs(got - expected) <= 1 and float(got) != int(np.ceil(got)):
            raise Wrong(f"you return {got}, expected {expected} (the check allows no difference): round UP to a whole "
                        "number of units")
        if abs(got - expected) <= 1:
            raise Wrong(f"you return {got:g}, expected {expected} (the check allows no difference): round up (np.ceil), "
                        "never down or to nearest, and check z_(1-alpha/2) + z_power")
        raise Wrong(f"for sd {sd}, delta {delta}, alpha {alpha}, power {power} the sample size per arm should be "
                    f"{expected}, you returned {got:g} (the check allows no difference): "
                    "n = 2 (z_(1-alpha/2) + z_power)^2 sd^2 / delta^2, rounded up")
    return f"{len(cases)} designs, with different alpha, power and a negative effect"
