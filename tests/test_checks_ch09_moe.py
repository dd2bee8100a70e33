"""Each checker of section 9.6 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
import torch
from checker_contract import contract_tests


def moe_params(d_model, d_ff, n_experts, k, n_layers, n_matrices=2):
    expert, router = n_matrices * d_model * d_ff, d_model * n_experts
    return n_layers * (n_experts * expert + router), n_layers * (k * expert + router)


def switch_balance_loss(probs, index):
    E = probs.shape[1]
    f = torch.bincount(index.reshape(-1), minlength=E).double() / index.numel()
    return E * (f * probs.mean(dim=0)).sum()


def top_k_route(logits, k):
    gates, index = torch.softmax(logits, dim=-1).topk(k, dim=-1)
    return gates / gates.sum(dim=-1, keepdim=True), index


def dropped_tokens(expert_index, n_experts, capacity_factor):
    capacity = math.ceil(capacity_factor * len(expert_index) / n_experts)
    loads = np.bincount(expert_index, minlength=n_experts)
    return int(np.maximum(loads - capacity, 0).sum())


REFERENCE = {"9.6.1": moe_params, "9.6.2": switch_balance_loss, "9.6.3": top_k_route, "9.6.4": dropped_tokens}


def _f(probs, index):
    return torch.bincount(index.reshape(-1), minlength=probs.shape[1]).double()


def _softmax_topk(logits, k):
    return torch.softmax(logits, dim=-1).topk(k, dim=-1)


WRONG = [
    ("9.6.1", lambda d, f, E, k, L, nm=2: moe_params(d, f, E, k, L, nm)[::-1], "swapped"),
    ("9.6.1", lambda d, f, E, k, L, nm=2: (L * E * nm * d * f, L * k * nm * d * f), "routers"),
    ("9.6.1", lambda d, f, E, k, L, nm=2: (moe_params(d, f, E, k, L, nm)[0],) * 2, "only k="),
    ("9.6.1", lambda d, f, E, k, L, nm=2: moe_params(d, f, E, k, L, 2), "n_matrices"),
    ("9.6.1", lambda d, f, E, k, L, nm=2: moe_params(d, f, E, k, 1, nm), "one layer"),
    ("9.6.1", lambda d, f, E, k, L, nm=2: (moe_params(d, f, E, k, L, nm)[0], L * (nm * d * f + d * E)), "it uses k="),
    ("9.6.1", lambda d, f, E, k, L, nm=2: moe_params(d, f, E, k, L, nm)[0], "pair"),
    ("9.6.1", lambda d, f, E, k, L, nm=2: (1, 2), "should be"),
    ("9.6.2", lambda p, i: switch_balance_loss(p, i) / p.shape[1], "factor n_experts"),
    ("9.6.2", lambda p, i: p.shape[1] * (_f(p, i) / len(i) * p.mean(dim=0)).sum(), "routing slots"),
    ("9.6.2", lambda p, i: p.shape[1] * ((_f(p, i) / i.numel()) ** 2).sum(), "used f_i twice"),
    ("9.6.2", lambda p, i: p.shape[1] * (p.mean(dim=0) ** 2).sum(), "used P_i twice"),
    ("9.6.2", lambda p, i: switch_balance_loss(p, i) + 0.01, "relative difference"),
    ("9.6.2", lambda p, i: "balanced", "should be a number"),
    ("9.6.3", lambda z, k: _softmax_topk(z, k), "raw probabilities"),
    ("9.6.3", lambda z, k: (z.topk(k, dim=-1).values, z.topk(k, dim=-1).indices), "take the softmax"),
    ("9.6.3", lambda z, k: tuple(t.flip(-1) for t in top_k_route(z, k)), "increasing order"),
    ("9.6.3", lambda z, k: (top_k_route(z, k)[0], (-z).topk(k, dim=-1).indices), "index should be"),
    ("9.6.3", lambda z, k: (torch.softmax(z, -1), torch.softmax(z, -1).argsort(-1, descending=True)), "shape"),
    ("9.6.3", lambda z, k: (top_k_route(z, k)[0] * 1.01, top_k_route(z, k)[1]), "differ"),
    ("9.6.3", lambda z, k: top_k_route(z, k)[0], "pair"),
    ("9.6.4", lambda i, E, cf: len(i) - dropped_tokens(i, E, cf), "kept"),
    ("9.6.4", lambda i, E, cf: dropped_tokens(i, E, cf) / len(i), "share"),
    ("9.6.4", lambda i, E, cf: int(np.maximum(np.bincount(i, minlength=E) - math.floor(cf * len(i) / E), 0).sum()),
     "rounded up"),
    ("9.6.4", lambda i, E, cf: float(np.maximum(np.bincount(i, minlength=E) - len(i) / E, 0).sum()),
     "capacity factor"),
    ("9.6.4", lambda i, E, cf: 0, "should be"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_messages_state_numbers_and_tolerance():
    from utils.checks import evaluate
    result = evaluate("9.6.2", lambda p, i: switch_balance_loss(p, i) * 1.001)
    assert "relative difference" in result.message and "should be" in result.message
