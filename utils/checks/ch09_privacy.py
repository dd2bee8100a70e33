"""Checkers for sections 9.8 (differential privacy, membership inference) and 9.9 (federated
learning, anonymisation, homomorphic encryption)."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from utils.checks import Wrong, exercise


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise Wrong(f"{what} is {x}")
    return x


# ---------------------------------------------------------------- 9.8

@exercise("9.8.1", "clip per-sample gradients")
def _check_clip(clip_per_sample) -> str:
    g = torch.Generator().manual_seed(981)
    cases = []
    for B, P, C in [(6, 5, 1.0), (10, 40, 0.5), (4, 3, 10.0)]:
        G = torch.randn(B, P, generator=g, dtype=torch.float64) * torch.tensor([0.1, 1, 3, 10, 0.5, 30, 2, 0.01, 5, 1][:B],
                                                                                 dtype=torch.float64)[:, None]
        cases.append((G, C))
    for G, C in cases:
        G_before = G.clone()
        what = f"clip_per_sample(G of shape {tuple(G.shape)}, C={C:g})"
        got = clip_per_sample(G, C)
        if not torch.equal(G, G_before):
            raise Wrong(f"{what} modified G in place; return a new tensor")
        got = torch.as_tensor(got, dtype=torch.float64)
        if got.shape != G.shape:
            raise Wrong(f"{what} has shape {tuple(got.shape)}, expected {tuple(G.shape)} (one clipped row per example)")
        norms = G.norm(dim=1, keepdim=True)
        expected = G * (C / norms).clamp(max=1.0)
        err = (got - expected).abs().max().item()
        if err <= 1e-5 * max(1.0, C):  # opacus' C / (norm + 1e-6) is accepted too
            continue
        if torch.allclose(got, G * (C / norms), atol=1e-6):
            raise Wrong(f"{what}: you scaled every row to norm C, also the small ones; rows with norm <= C "
                        "must stay unchanged (factor min(1, C / norm))")
        if torch.allclose(got, G * min(1.0, C / G.norm().item()), atol=1e-6):
            raise Wrong(f"{what}: you clipped the whole batch by its total norm; clip each row (each example) "
                        "by its own norm")
        if torch.allclose(got, G.clamp(-C, C), atol=1e-9):
            raise Wrong(f"{what}: you clamped each coordinate to [-C, C]; clip the row's Euclidean norm "
                        "instead, which keeps its direction")
        col = G * (C / G.norm(dim=0, keepdim=True)).clamp(max=1.0)
        if torch.allclose(got, col, atol=1e-6):
            raise Wrong(f"{what}: you took norms over columns (dim=0); each ROW is one example's gradient")
        raise Wrong(f"{what} differs from G * min(1, C / ||row||) by up to {err:.3e} (tolerance {1e-5 * max(1.0, C):.0e})")
    return f"{len(cases)} batches in float64: large rows scaled to norm C, small rows unchanged (tolerance 1e-5)"


def _sgm_rdp_reference(q, sigma, alpha):
    total = sum(math.comb(alpha, k) * (1 - q) ** (alpha - k) * q ** k * math.exp((k * k - k) / (2 * sigma ** 2))
                for k in range(alpha + 1))
    return math.log(total) / (alpha - 1)


@exercise("9.8.2", "Renyi DP of the sampled Gaussian mechanism")
def _check_sgm_rdp(sgm_rdp) -> str:
    from utils import privacy

    cases = [(0.05, 1.0, 2), (0.05, 1.0, 10), (0.01, 0.8, 20), (0.1, 2.0, 64), (1.0, 1.5, 7), (0.3, 4.0, 3)]
    for q, sigma, alpha in cases:
        what = f"sgm_rdp(q={q}, sigma={sigma}, alpha={alpha})"
        got = _number(sgm_rdp(q, sigma, alpha), what)
        expected = privacy.sgm_rdp(q, sigma, alpha)
        if math.isclose(got, expected, rel_tol=1e-8, abs_tol=1e-12):
            continue
        if q < 1 and math.isclose(got, alpha / (2 * sigma ** 2), rel_tol=1e-8):
            raise Wrong(f"{what} = {got:.6g} is alpha / (2 sigma^2), the Gaussian mechanism without sampling; "
                        "sampling with rate q makes it much smaller (the binomial sum)")
        if math.isclose(got, expected * (alpha - 1), rel_tol=1e-8):
            raise Wrong(f"{what} = {got:.6g}: you forgot to divide the log of the sum by alpha - 1")
        no_q = math.log(sum(math.comb(alpha, k) * q ** k * math.exp((k * k - k) / (2 * sigma ** 2))
                            for k in range(alpha + 1))) / (alpha - 1)
        if math.isclose(got, no_q, rel_tol=1e-8):
            raise Wrong(f"{what} = {got:.6g}: the factor (1 - q)^(alpha - k) is missing")
        raise Wrong(f"{what} should be {expected:.10g}, got {got:.10g} (relative tolerance 1e-8)")
    return f"{len(cases)} (q, sigma, alpha) cases, relative tolerance 1e-8, including q = 1 (plain Gaussian)"


@exercise("9.8.3", "ROC AUC by ranks")
def _check_auc(roc_auc) -> str:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(983)
    cases = [(np.array([3.0, 2.0, 5.0]), np.array([1.0, 2.0, 0.5, 4.0])),
             (np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0])),
             (rng.normal(0.3, 1, 500), rng.normal(0, 1, 400)),
             (rng.integers(0, 4, 300).astype(float), rng.integers(0, 3, 200).astype(float)),
             (np.array([0.0]), np.array([1.0]))]
    for pos, neg in cases:
        what = f"roc_auc(pos of {len(pos)}, neg of {len(neg)})"
        got = _number(roc_auc(pos.copy(), neg.copy()), what)
        labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        expected = roc_auc_score(labels, np.r_[pos, neg])
        if abs(got - expected) <= 1e-9:
            continue
        strict = np.mean(pos[:, None] > neg[None, :])
        if abs(got - strict) <= 1e-9:
            raise Wrong(f"{what} = {got:.6f}: ties must count one half (expected {expected:.6f})")
        if abs(got - (1 - expected)) <= 1e-9:
            raise Wrong(f"{what} = {got:.6f} = 1 - AUC: positives should score HIGHER (expected {expected:.6f})")
        raise Wrong(f"{what} should be {expected:.6f}, got {got:.6f} (tolerance 1e-9)")
    return f"{len(cases)} cases against sklearn's roc_auc_score, ties included (tolerance 1e-9)"


def _tpr_at_fpr_reference(pos, neg, max_fpr):
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    best = 0.0
    for t in np.unique(np.r_[pos, neg]):
        if np.mean(neg >= t) <= max_fpr + 1e-12:  # 10 / 1000 is 0.01, however it was computed
            best = max(best, float(np.mean(pos >= t)))
    return best


@exercise("9.8.4", "attack's true-positive rate at low false-positive rate")
def _check_tpr_at_fpr(tpr_at_fpr) -> str:
    rng = np.random.default_rng(984)
    cases = [(np.array([5.0, 4.0, 3.0, 1.0]), np.array([4.5, 2.0, 1.0, 0.0]), 0.25),
             (np.array([5.0, 4.0, 3.0, 1.0]), np.array([4.5, 2.0, 1.0, 0.0]), 0.0),
             (rng.normal(0.5, 1, 1000), rng.normal(0, 1, 1000), 0.01),
             (rng.normal(0.5, 1, 300), rng.normal(0, 1, 700), 0.1),
             (np.r_[np.full(50, 9.0), rng.normal(0, 1, 950)], rng.normal(0, 1, 1000), 0.01),
             (np.array([1.0, 1.0, 1.0]), np.array([1.0, 0.0]), 0.4)]
    for pos, neg, max_fpr in cases:
        what = f"tpr_at_fpr(pos of {len(pos)}, neg of {len(neg)}, max_fpr={max_fpr})"
        got = _number(tpr_at_fpr(pos.copy(), neg.copy(), max_fpr), what)
        expected = _tpr_at_fpr_reference(pos, neg, max_fpr)
        if abs(got - expected) <= 1e-9:
            continue
        if got > expected + 1e-9:
            raise Wrong(f"{what} = {got:.4f} is above the best achievable {expected:.4f}: a threshold whose "
                        f"false-positive rate exceeds {max_fpr} was allowed, or scores >= t were counted as > t")
        raise Wrong(f"{what} should be {expected:.4f}, got {got:.4f} (tolerance 1e-9): scan every distinct score "
                    "as a threshold, keep those with FPR <= max_fpr, take the largest TPR")
    return f"{len(cases)} cases, ties and a zero FPR budget included (tolerance 1e-9)"
