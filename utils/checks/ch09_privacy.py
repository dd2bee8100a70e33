"""Checkers for sections 9.8 (differential privacy, membership inference) and 9.9 (federated
learning, anonymisation, homomorphic encryption)."""
from __future__ import annotations

import math

import numpy as np
import torch

from utils.checks import Wrong, exercise


# the strict number of 9.2's checkers (size-1 tensors accepted, bools refused): one copy
from utils.checks.ch09_lora import _number  # noqa: E402


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


# ---------------------------------------------------------------- 9.9

@exercise("9.9.1", "federated averaging of client weights")
def _check_fedavg_average(fedavg_average) -> str:
    g = torch.Generator().manual_seed(991)
    cases = [[3, 1], [10, 20, 30], [5]]
    for sizes in cases:
        states = [{"w": torch.randn(3, 2, generator=g, dtype=torch.float64),
                   "b": torch.randn(2, generator=g, dtype=torch.float64)} for _ in sizes]
        what = f"fedavg_average({len(sizes)} clients, sizes={sizes})"
        got = fedavg_average([dict(s) for s in states], list(sizes))
        if not isinstance(got, dict) or set(got) != {"w", "b"}:
            raise Wrong(f"{what} should return a dict with the same keys as the states ('w', 'b'), got {type(got).__name__}")
        total = sum(sizes)
        for k in ("w", "b"):
            expected = sum(n / total * s[k] for n, s in zip(sizes, states))
            val = torch.as_tensor(got[k], dtype=torch.float64)
            if val.shape != expected.shape:
                raise Wrong(f"{what}['{k}'] has shape {tuple(val.shape)}, expected {tuple(expected.shape)}")
            err = (val - expected).abs().max().item()
            if err <= 1e-10:
                continue
            unweighted = sum(s[k] for s in states) / len(states)
            if torch.allclose(val, unweighted, atol=1e-10):
                raise Wrong(f"{what}: you took the plain mean; FedAvg weights each client by its share of the "
                            "examples, n_c / sum(n)")
            if torch.allclose(val, sum(n * s[k] for n, s in zip(sizes, states)), atol=1e-10):
                raise Wrong(f"{what}: you forgot to divide by the total number of examples ({total})")
            raise Wrong(f"{what}['{k}'] differs from the weighted average by up to {err:.3e} (tolerance 1e-10)")
    return f"{len(cases)} federations in float64, weights n_c / sum(n), tolerance 1e-10"


@exercise("9.9.2", "k of k-anonymity")
def _check_k_of(k_of) -> str:
    import pandas as pd

    cases = [(pd.DataFrame({"age": [20, 20, 30, 30, 30], "zip": ["1", "1", "2", "2", "2"]}), ["age", "zip"], 2),
             (pd.DataFrame({"age": [20, 20, 30, 30, 30], "zip": ["1", "2", "2", "2", "2"]}), ["age", "zip"], 1),
             (pd.DataFrame({"age": [20, 20, 30, 30, 30], "zip": ["1", "2", "2", "2", "2"]}), ["age"], 2),
             (pd.DataFrame({"a": [1] * 4 + [2] * 6, "b": ["x"] * 10, "c": [0, 1] * 5}), ["a", "b"], 4),
             (pd.DataFrame({"a": [1] * 4 + [2] * 6, "b": ["x"] * 10, "c": [0, 1] * 5}), ["a", "c"], 2)]
    for table, cols, expected in cases:
        what = f"k_of(table of {len(table)} rows, {cols})"
        got = _number(k_of(table.copy(), list(cols)), what)
        if got == expected:
            continue
        sizes = table.groupby(cols).size()
        if got == sizes.max():
            raise Wrong(f"{what} = {got:.0f} is the LARGEST group; k is the smallest group's size ({expected})")
        if got == min(table[c].value_counts().min() for c in cols):
            raise Wrong(f"{what} = {got:.0f}: you grouped by each column separately; group by all of them together")
        if got == len(sizes):
            raise Wrong(f"{what} = {got:.0f} is the number of groups; k is the smallest group's size ({expected})")
        raise Wrong(f"{what} should be {expected}, got {got:.0f}")
    return f"{len(cases)} small tables, exactly"


@exercise("9.9.3", "labels of a batch from the bias gradient")
def _check_labels_in_batch(labels_in_batch) -> str:
    g = torch.Generator().manual_seed(993)
    checked = 0
    for B, n_classes in [(4, 10), (8, 10), (1, 5), (2, 3)]:  # an untrained model (p near uniform), B < classes
        logits = (0.1 * torch.randn(B, n_classes, generator=g, dtype=torch.float64)).requires_grad_()
        bias = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
        labels = torch.randint(0, n_classes, (B,), generator=g)
        torch.nn.functional.cross_entropy(logits + bias, labels).backward()
        expected = set(labels.tolist())
        got = labels_in_batch(bias.grad.clone())
        what = f"labels_in_batch(bias gradient of a batch of {B}, {n_classes} classes)"
        try:
            got_set = {int(v) for v in got}
        except (TypeError, ValueError):
            raise Wrong(f"{what} should return a set of ints, got {type(got).__name__}")
        if got_set == expected:
            checked += 1
            continue
        if got_set == set(range(n_classes)) - expected:
            raise Wrong(f"{what} = {sorted(got_set)}: the signs are the other way round; the labels present are "
                        "the NEGATIVE entries (p - 1 < 0)")
        if len(got_set) == 1 and len(expected) > 1:
            raise Wrong(f"{what} = {sorted(got_set)} found one label (an argmin?); a batch can hold several: "
                        f"expected {sorted(expected)}")
        raise Wrong(f"{what} = {sorted(got_set)}, expected {sorted(expected)}")
    return f"{checked} batches, exactly the labels present"


@exercise("9.9.4", "decode fixed point modulo N")
def _check_decode_mod(decode_mod) -> str:
    N = 2 ** 61 - 1
    scale = 2 ** 16
    rng = np.random.default_rng(994)
    xs = [0.5, -0.25, -3.0, 1e-4, -1e-4, 0.0]
    vectors = [rng.normal(0, 1, 5) for _ in range(3)]
    for x in xs:
        n = int(round(x * scale)) % N
        got = _number(decode_mod(n, scale, N), f"decode_mod({n}, {scale}, N)")
        expected = round(x * scale) / scale
        if abs(got - expected) <= 1e-12:
            continue
        if x < 0 and abs(got - n / scale) <= 1e-6 * abs(n / scale):
            raise Wrong(f"decode_mod of {x} gave {got:.6g}: values above N // 2 stand for negatives (n - N); "
                        "map them back before dividing by scale")
        raise Wrong(f"decode_mod of {x} (encoded {n}) should give {expected:.10g}, got {got:.10g} (tolerance 1e-12)")
    summed = [sum(int(round(v[i] * scale)) % N for v in vectors) % N for i in range(5)]
    for i, n in enumerate(summed):
        got = _number(decode_mod(n, scale, N), "decode_mod of a sum")
        expected = sum(int(round(v[i] * scale)) for v in vectors) / scale
        if abs(got - expected) > 1e-12:
            raise Wrong(f"decode_mod of the sum of three encodings should give {expected:.10g}, got {got:.10g}: "
                        "decode after reducing the sum modulo N")
    return f"{len(xs)} values and 5 sums of three encodings, signs included (tolerance 1e-12)"
