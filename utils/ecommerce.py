"""E-commerce helpers for section 8.3: click-through models, basket rules, inventory, A/B tests.

Each function is short and written from its formula; the section builds them inline first
and checks that they agree with these (one source of truth for the exercises' checkers).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm


# --- click-through rate -------------------------------------------------------------------

def fm_pairwise_naive(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Factorisation-machine interactions by the definition: sum over i < j of <v_i, v_j> x_i x_j.

    ``X`` is (n, d) features, ``V`` is (d, k) factors; returns (n,). O(k d^2) per row."""
    X, V = np.atleast_2d(np.asarray(X, dtype=float)), np.asarray(V, dtype=float)
    if X.shape[1] != V.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features but V has {V.shape[0]} rows: they must match")
    G = V @ V.T  # <v_i, v_j>
    full = np.einsum("ni,ij,nj->n", X, G, X)
    return 0.5 * (full - np.einsum("ni,ii->n", X * X, G))


def fm_pairwise(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Rendle's O(k d) identity: 1/2 sum_f [(sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2]."""
    X, V = np.atleast_2d(np.asarray(X, dtype=float)), np.asarray(V, dtype=float)
    if X.shape[1] != V.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features but V has {V.shape[0]} rows: they must match")
    return 0.5 * np.sum((X @ V) ** 2 - (X * X) @ (V * V), axis=1)


def log_loss(y, p, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of 0/1 labels ``y`` under probabilities ``p`` (natural log)."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """ECE with equal-width bins on [0, 1]: sum over bins of (bin share) x |mean label - mean p|.

    A probability of exactly 1 falls in the last bin."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y and p must be non-empty 1-D arrays of the same length, got {y.shape} and {p.shape}")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(ece)


# --- baskets ------------------------------------------------------------------------------

def rule_metrics(baskets, antecedent, consequent) -> tuple[float, float, float]:
    """Support, confidence and lift of the rule antecedent -> consequent.

    ``baskets`` is a boolean DataFrame (one row per order, one column per item);
    ``antecedent`` and ``consequent`` are lists of column names."""
    a = baskets[list(antecedent)].all(axis=1).to_numpy()
    c = baskets[list(consequent)].all(axis=1).to_numpy()
    support = float(np.mean(a & c))
    confidence = support / float(np.mean(a)) if a.any() else float("nan")
    lift = confidence / float(np.mean(c)) if c.any() else float("nan")
    return support, confidence, lift


# --- demand and inventory -----------------------------------------------------------------

def newsvendor_cost(order, demand, underage: float, overage: float) -> float:
    """Mean cost per period: ``underage`` per unit short (demand above the order), ``overage`` per unit left."""
    order, demand = np.asarray(order, dtype=float), np.asarray(demand, dtype=float)
    if order.shape != demand.shape:
        raise ValueError(f"order has shape {order.shape} but demand has {demand.shape}: one order per period")
    return float(np.mean(underage * np.maximum(demand - order, 0) + overage * np.maximum(order - demand, 0)))


def critical_ratio(underage: float, overage: float) -> float:
    """The newsvendor's optimal service level: order the cu/(cu+co) quantile of demand."""
    return underage / (underage + overage)


def coverage(y, lower, upper) -> float:
    """Share of observations inside their prediction interval [lower, upper]."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


# --- A/B tests ----------------------------------------------------------------------------

def sample_size_per_arm(sd: float, delta: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Orders per arm for a two-sided z-test of a difference ``delta`` in means, each arm with s.d. ``sd``:
    n = 2 (z_{1-alpha/2} + z_{power})^2 sd^2 / delta^2, rounded up."""
    if sd <= 0 or delta == 0:
        raise ValueError(f"need sd > 0 and a non-zero effect delta, got sd={sd}, delta={delta}")
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return int(np.ceil(2 * z**2 * sd**2 / delta**2))


def z_test_pvalue(a, b) -> float:
    """Two-sided p-value of the difference in means of two samples (normal approximation, unequal variances)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float(2 * norm.sf(abs(b.mean() - a.mean()) / se))
