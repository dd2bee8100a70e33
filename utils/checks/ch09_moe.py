"""Checkers for section 9.6 (mixture of experts: parameters, balancing loss, routing, capacity)."""
from __future__ import annotations

import math

import numpy as np
import torch

from utils.checks import Wrong, exercise, not_close, number, numbers


def _moe_params(d_model, d_ff, n_experts, k, n_layers, n_matrices):
    expert = n_matrices * d_model * d_ff
    router = d_model * n_experts
    return n_layers * (n_experts * expert + router), n_layers * (k * expert + router)


_PARAM_CASES = [  # d_model, d_ff, n_experts, k, n_layers, n_matrices
    (64, 256, 4, 1, 2, 2),       # the section's MoE GPT (biases left out)
    (4096, 14336, 8, 2, 32, 3),  # Mixtral 8x7B's MoE layers (SwiGLU experts)
    (768, 3072, 128, 1, 12, 2),  # Switch-Base-128's shape, every layer an MoE layer
    (10, 20, 3, 3, 1, 2),        # k = E: every expert is active
]


@exercise("9.6.1", "total and active parameters of MoE layers")
def _check_moe_params(moe_params) -> str:
    for d, f, E, k, L, nm in _PARAM_CASES:
        what = f"moe_params(d_model={d}, d_ff={f}, n_experts={E}, k={k}, n_layers={L}, n_matrices={nm})"
        got = moe_params(d, f, E, k, L, nm)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Wrong(f"{what} should return a pair (total, active), got {got!r}")
        total, active = (number(v, f"{what}[{i}]") for i, v in enumerate(got))
        exp_total, exp_active = _moe_params(d, f, E, k, L, nm)
        if (total, active) == (exp_total, exp_active):
            continue
        expert, router = nm * d * f, d * E
        if (total, active) == (exp_active, exp_total):
            raise Wrong(f"{what} = ({total:.0f}, {active:.0f}) has total and active swapped")
        if (total, active) == (L * E * expert, L * k * expert):
            raise Wrong(f"{what} = ({total:.0f}, {active:.0f}) leaves out the routers: each layer has a "
                        f"d_model x n_experts router ({router:,} numbers), which every token uses")
        if total == exp_total and active == exp_total:
            raise Wrong(f"{what}: active = total = {active:.0f}; a token uses only k={k} of the {E} experts")
        if total == exp_total and active == L * (expert + router) and k != 1:
            raise Wrong(f"{what}: active = {active:.0f} counts one expert per token; it uses k={k}")
        if (total, active) == _moe_params(d, f, E, k, L, 1) or (total, active) == _moe_params(d, f, E, k, L, 2):
            raise Wrong(f"{what} = ({total:.0f}, {active:.0f}): each expert has n_matrices={nm} matrices of "
                        f"d_model x d_ff numbers")
        if (total, active) == _moe_params(d, f, E, k, 1, nm):
            raise Wrong(f"{what} = ({total:.0f}, {active:.0f}) counts one layer; there are n_layers={L}")
        raise Wrong(f"{what} should be ({exp_total:,}, {exp_active:,}), got ({total:,.0f}, {active:,.0f})")
    return (f"{len(_PARAM_CASES)} shapes exactly, including Mixtral 8x7B's MoE layers: "
            f"{_moe_params(4096, 14336, 8, 2, 32, 3)[0] / 1e9:.2f}B total, "
            f"{_moe_params(4096, 14336, 8, 2, 32, 3)[1] / 1e9:.2f}B active")


def _balance(probs, index):
    E = probs.shape[1]
    f = np.bincount(index.reshape(-1), minlength=E) / index.size
    return E * float((f * probs.mean(axis=0)).sum())


def _balance_cases():
    rng = np.random.default_rng(96)
    cases = [(np.full((8, 4), 0.25), np.tile(np.arange(4), 2)[:, None], "perfect balance"),
             (np.tile([1.0, 0.0, 0.0], (5, 1)), np.zeros((5, 1), dtype=np.int64), "collapse onto expert 0")]
    for tokens, E, k in ((12, 4, 1), (20, 8, 2), (7, 3, 2), (30, 5, 1)):
        logits = rng.normal(scale=1.5, size=(tokens, E))
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        cases.append((probs, np.argsort(-probs, axis=1)[:, :k], f"{tokens} random tokens, {E} experts, top-{k}"))
    return cases


@exercise("9.6.2", "the Switch Transformer's load-balancing loss")
def _check_balance(switch_balance_loss) -> str:
    for probs, index, name in _balance_cases():
        got = switch_balance_loss(torch.tensor(probs), torch.tensor(index))
        got = number(got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got,
                     f"switch_balance_loss on {name}")
        expected = _balance(probs, index)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        E, k = probs.shape[1], index.shape[1]
        f = np.bincount(index.reshape(-1), minlength=E) / index.size
        P = probs.mean(axis=0)
        for wrong, reason in ((expected / E, "forgot the factor n_experts (E): the loss is E * sum f_i P_i, "
                                             "1 at perfect balance"),
                              (expected * k, "divided the counts by the number of tokens only; f_i is the share "
                                             "of the tokens x k routing slots (the f_i sum to 1)"),
                              (E * float((f * f).sum()), "used f_i twice; the second factor is the mean router "
                                                         "probability P_i (the part with a gradient)"),
                              (E * float((P * P).sum()), "used P_i twice; the first factor is the share f_i of "
                                                         "tokens routed to expert i"),
                              (float((f * P).sum()), "forgot the factor n_experts (E)")):
            if math.isclose(got, wrong, rel_tol=1e-9, abs_tol=1e-12) and not math.isclose(wrong, expected):
                raise Wrong(f"switch_balance_loss on {name} = {numbers(got)[0]}: you {reason}")
        raise not_close(f"switch_balance_loss on {name}", got, expected, rtol=1e-9)
    return "perfect balance gives 1, collapse gives E, and 4 random routings, to a relative 1e-9"


def _route(logits, k):
    p = torch.softmax(logits, dim=-1)
    g, i = p.topk(k, dim=-1)
    return g / g.sum(dim=-1, keepdim=True), i


@exercise("9.6.3", "a top-k router with renormalised gates")
def _check_route(top_k_route) -> str:
    g = torch.Generator().manual_seed(963)
    cases = [(torch.randn(6, 4, generator=g, dtype=torch.float64) * 2, 2),
             (torch.randn(5, 8, generator=g, dtype=torch.float64) * 2, 2),
             (torch.randn(4, 3, generator=g, dtype=torch.float64), 1),
             (torch.randn(3, 5, generator=g, dtype=torch.float64), 3)]
    for logits, k in cases:
        what = f"top_k_route(logits {tuple(logits.shape)}, k={k})"
        out = top_k_route(logits.clone(), k)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Wrong(f"{what} should return a pair (gates, index), got {type(out).__name__}")
        gates, index = (torch.as_tensor(v) for v in out)
        exp_g, exp_i = _route(logits, k)
        if tuple(gates.shape) != tuple(exp_g.shape) or tuple(index.shape) != tuple(exp_i.shape):
            raise Wrong(f"{what}: gates and index should both have shape {tuple(exp_g.shape)} (tokens, k), got "
                        f"{tuple(gates.shape)} and {tuple(index.shape)}")
        if torch.equal(index.long(), exp_i.flip(-1)) and k > 1:
            raise Wrong(f"{what}: the experts are in increasing order of probability; put the best first")
        if not torch.equal(index.long(), exp_i):
            if torch.equal(index.long().sort(-1).values, exp_i.sort(-1).values):
                raise Wrong(f"{what}: the right experts, in the wrong order; list them best first "
                            "(as torch.topk does)")
            raise Wrong(f"{what}: index should be {exp_i.tolist()}, got {index.tolist()} (the k largest "
                        "probabilities of each row)")
        gates = gates.to(torch.float64)
        err = (gates - exp_g).abs().max().item()
        if err <= 1e-9:
            continue
        raw = torch.softmax(logits, -1).gather(-1, exp_i)
        if torch.allclose(gates, raw, atol=1e-9):
            raise Wrong(f"{what}: the gates are the raw probabilities; divide them by their sum over the "
                        f"k chosen experts, so that they add up to 1")
        if torch.allclose(gates, logits.gather(-1, exp_i), atol=1e-9):
            raise Wrong(f"{what}: the gates are logits; take the softmax first")
        raise Wrong(f"{what}: gates differ from softmax-then-renormalise by up to {err:.3e} "
                    "(the check allows an absolute difference of 1e-09)")
    return f"{len(cases)} random routers in float64: same experts, best first, gates within 1e-9"


def _dropped(index, n_experts, capacity_factor):
    capacity = math.ceil(capacity_factor * len(index) / n_experts)
    return int(sum(max(0, c - capacity) for c in np.bincount(index, minlength=n_experts)))


_CAPACITY_CASES = [
    ([0, 1, 2, 3, 0, 1, 2, 3], 4, 1.0),
    ([0, 0, 0, 0, 0, 1, 2, 3], 4, 1.0),
    ([0, 0, 0, 0, 0, 1, 2, 3], 4, 1.25),
    ([1, 1, 1, 1, 1, 1], 3, 2.0),
    ([2, 0, 2, 2, 1, 2, 0, 2, 2, 1], 3, 1.0),
    ([0, 1, 0, 1, 0], 2, 1.5),
]


@exercise("9.6.4", "tokens dropped at an expert capacity")
def _check_dropped(dropped_tokens) -> str:
    for index, E, cf in _CAPACITY_CASES:
        what = f"dropped_tokens({index}, n_experts={E}, capacity_factor={cf:g})"
        got = number(dropped_tokens(np.array(index), E, cf), what)
        expected = _dropped(np.array(index), E, cf)
        if got == expected:
            continue
        capacity = math.ceil(cf * len(index) / E)
        counts = np.bincount(index, minlength=E)
        if got == len(index) - expected:
            raise Wrong(f"{what} = {got:.0f} is the number of tokens kept; return the number dropped")
        if math.isclose(got, expected / len(index)):
            raise Wrong(f"{what} = {got:g} is a share; return the number of tokens dropped ({expected})")
        floor_cap = math.floor(cf * len(index) / E)
        if got == sum(max(0, c - floor_cap) for c in counts) and floor_cap != capacity:
            raise Wrong(f"{what} = {got:.0f}: the capacity is ceil(capacity_factor * tokens / n_experts) "
                        f"= {capacity}, with the capacity factor {cf:g} included and rounded up")
        if got == sum(max(0, c - len(index) / E) for c in counts):
            raise Wrong(f"{what} = {got:g}: the capacity includes the capacity factor {cf:g}: "
                        f"ceil({cf:g} * {len(index)} / {E}) = {capacity}")
        raise Wrong(f"{what} should be {expected} (capacity {capacity} per expert, loads {counts.tolist()}), "
                    f"got {got:g}")
    return f"{len(_CAPACITY_CASES)} routings exactly (balanced, collapsed, several capacity factors)"
