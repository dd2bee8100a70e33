"""Each checker of sections 9.8 and 9.9 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
import pytest
import torch
from checker_contract import contract_tests

from utils.checks import NOT_ATTEMPTED, evaluate


def clip_per_sample(G, C):
    return G * (C / G.norm(dim=1, keepdim=True)).clamp(max=1.0)


def sgm_rdp(q, sigma, alpha):
    total = sum(math.comb(alpha, k) * (1 - q) ** (alpha - k) * q ** k * math.exp((k * k - k) / (2 * sigma ** 2))
                for k in range(alpha + 1))
    return math.log(total) / (alpha - 1)


def roc_auc(pos, neg):
    from scipy.stats import rankdata

    r = rankdata(np.r_[pos, neg])
    return (r[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def tpr_at_fpr(pos, neg, max_fpr):
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    best = 0.0
    for t in np.unique(np.r_[pos, neg]):
        if np.mean(neg >= t) <= max_fpr:
            best = max(best, np.mean(pos >= t))
    return best


def fedavg_average(states, sizes):
    total = sum(sizes)
    return {k: sum(n / total * s[k] for n, s in zip(sizes, states)) for k in states[0]}


def k_of(table, columns):
    return int(table.groupby(list(columns)).size().min())


def labels_in_batch(bias_grad):
    return {int(c) for c in torch.nonzero(bias_grad < 0).flatten()}


def decode_mod(n, scale, modulus):
    return (n - modulus if n > modulus // 2 else n) / scale


REFERENCE = {"9.8.1": clip_per_sample, "9.8.2": sgm_rdp, "9.8.3": roc_auc, "9.8.4": tpr_at_fpr,
             "9.9.1": fedavg_average, "9.9.2": k_of, "9.9.3": labels_in_batch, "9.9.4": decode_mod}


def clip_in_place(G, C):
    G *= (C / G.norm(dim=1, keepdim=True)).clamp(max=1.0)
    return G


def tpr_strict(pos, neg, max_fpr):
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    best = 0.0
    for t in np.unique(np.r_[pos, neg]):
        if np.mean(neg >= t) < max_fpr:
            best = max(best, np.mean(pos >= t))
    return best


def tpr_no_constraint_equal(pos, neg, max_fpr):
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    best = 0.0
    for t in np.unique(np.r_[pos, neg]):
        if np.mean(neg >= t) <= max_fpr + 0.05:
            best = max(best, np.mean(pos >= t))
    return best


WRONG = [
    ("9.8.1", lambda G, C: G * (C / G.norm(dim=1, keepdim=True)), "also the small ones"),
    ("9.8.1", lambda G, C: G * min(1.0, C / G.norm().item()), "whole batch"),
    ("9.8.1", lambda G, C: G.clamp(-C, C), "clamped each coordinate"),
    ("9.8.1", lambda G, C: G * (C / G.norm(dim=0, keepdim=True)).clamp(max=1.0), "columns"),
    ("9.8.1", clip_in_place, "in place"),
    ("9.8.1", lambda G, C: clip_per_sample(G, C)[:1], "shape"),
    ("9.8.1", lambda G, C: clip_per_sample(G, C) * 0.99, "tolerance"),
    ("9.8.2", lambda q, sigma, alpha: alpha / (2 * sigma ** 2), "without sampling"),
    ("9.8.2", lambda q, sigma, alpha: sgm_rdp(q, sigma, alpha) * (alpha - 1), "alpha - 1"),
    ("9.8.2", lambda q, sigma, alpha: math.log(sum(math.comb(alpha, k) * q ** k * math.exp((k * k - k) / (2 * sigma ** 2))
                                                   for k in range(alpha + 1))) / (alpha - 1), "(1 - q)"),
    ("9.8.2", lambda q, sigma, alpha: sgm_rdp(q, sigma, alpha) * 1.01, "should be"),
    ("9.8.2", lambda q, sigma, alpha: None, "should be a number"),
    ("9.8.3", lambda pos, neg: np.mean(np.asarray(pos)[:, None] > np.asarray(neg)[None, :]), "ties"),
    ("9.8.3", lambda pos, neg: 1 - roc_auc(pos, neg), "HIGHER"),
    ("9.8.3", lambda pos, neg: roc_auc(pos, neg) + 0.01, "should be"),
    ("9.8.4", tpr_strict, "should be"),
    ("9.8.4", tpr_no_constraint_equal, "above the best"),
    ("9.8.4", lambda pos, neg, max_fpr: 0.0, "should be"),
    ("9.9.1", lambda states, sizes: {k: sum(s[k] for s in states) / len(states) for k in states[0]}, "plain mean"),
    ("9.9.1", lambda states, sizes: {k: sum(n * s[k] for n, s in zip(sizes, states)) for k in states[0]}, "divide"),
    ("9.9.1", lambda states, sizes: [fedavg_average(states, sizes)], "should return a dict"),
    ("9.9.1", lambda states, sizes: {k: v * 1.01 for k, v in fedavg_average(states, sizes).items()}, "differs"),
    ("9.9.2", lambda table, columns: int(table.groupby(list(columns)).size().max()), "LARGEST"),
    ("9.9.2", lambda table, columns: min(table[c].value_counts().min() for c in columns), "each column separately"),
    ("9.9.2", lambda table, columns: len(table), "should be"),
    ("9.9.3", lambda g: {int(c) for c in torch.nonzero(g > 0).flatten()}, "other way round"),
    ("9.9.3", lambda g: {int(g.argmin())}, "one label"),
    ("9.9.3", lambda g: 3.5, "set of ints"),
    ("9.9.4", lambda n, scale, modulus: n / scale, "N // 2"),
    ("9.9.4", lambda n, scale, modulus: decode_mod(n, scale, modulus) + 1e-6, "should give"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    from utils import privacy

    assert evaluate("9.8.2", privacy.sgm_rdp).passed
    assert evaluate("9.8.3", privacy.auc).passed

    def clip_with_library(G, C):  # opacus' factor, C / (norm + 1e-6), is accepted
        return torch.stack([privacy.clip_and_sum({"w": g[None]}, C)[0]["w"] for g in G])

    assert evaluate("9.8.1", clip_with_library).passed
