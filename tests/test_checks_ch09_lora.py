"""Each checker of section 9.2 accepts the reference answer and rejects plausible mistakes."""
import pytest
import torch
from checker_contract import contract_tests

from utils.checks import NOT_ATTEMPTED, evaluate


def lora_param_count(d_in, d_out, r):
    return r * (d_in + d_out)


def merge_weight(W, A, B, alpha, r):
    return W + (alpha / r) * (B @ A)


def deduplicate_passages(passages, min_chars):
    seen, kept = set(), []
    for p in passages:
        if len(p) >= min_chars:
            if p in seen:
                continue
            seen.add(p)
        kept.append(p)
    return kept


def finetune_bytes(n_frozen, n_trainable, frozen_bytes=4.0):
    return frozen_bytes * n_frozen + 16 * n_trainable


REFERENCE = {"9.2.1": lora_param_count, "9.2.2": merge_weight, "9.2.3": deduplicate_passages,
             "9.2.4": finetune_bytes}


def merge_in_place(W, A, B, alpha, r):
    W += (alpha / r) * (B @ A)
    return W


def drop_all_copies(passages, min_chars):
    return [p for p in passages if len(p) < min_chars or passages.count(p) == 1]


def keep_last(passages, min_chars):
    return [p for i, p in enumerate(passages) if len(p) < min_chars or p not in passages[i + 1:]]


def set_order(passages, min_chars):
    return sorted(set(deduplicate_passages(passages, min_chars)) - {p for p in passages if len(p) < min_chars}) + \
        [p for p in passages if len(p) < min_chars]


def strip_first(passages, min_chars):
    return deduplicate_passages([p.strip() for p in passages], min_chars)


WRONG = [
    ("9.2.1", lambda d_in, d_out, r: r * d_in * d_out, "two thin matrices"),
    ("9.2.1", lambda d_in, d_out, r: r * (d_in + d_out) + d_in * d_out, "frozen weight"),
    ("9.2.1", lambda d_in, d_out, r: d_in + d_out, "forgets r"),
    ("9.2.1", lambda d_in, d_out, r: r * d_in, "one matrix"),
    ("9.2.1", lambda d_in, d_out, r: 2 * r * max(d_in, d_out), "should be"),
    ("9.2.1", lambda d_in, d_out, r: "many", "should be a number"),
    ("9.2.2", lambda W, A, B, alpha, r: W + B @ A, "forgot the scale"),
    ("9.2.2", lambda W, A, B, alpha, r: W + (r / alpha) * (B @ A), "r / alpha"),
    ("9.2.2", lambda W, A, B, alpha, r: W + alpha * (B @ A), "scaled by alpha"),
    ("9.2.2", lambda W, A, B, alpha, r: (alpha / r) * (B @ A), "only the update"),
    ("9.2.2", lambda W, A, B, alpha, r: W - (alpha / r) * (B @ A), "unmerge"),
    ("9.2.2", lambda W, A, B, alpha, r: W + (alpha / r) * (A @ B), "shape error"),
    ("9.2.2", merge_in_place, "in place"),
    ("9.2.2", lambda W, A, B, alpha, r: (W + (alpha / r) * (B @ A)).T, "shape"),
    ("9.2.2", lambda W, A, B, alpha, r: (W + (alpha / r) * (B @ A)).float() + 1e-6, "tolerance"),
    ("9.2.3", drop_all_copies, "including the first"),
    ("9.2.3", keep_last, "last occurrence"),
    ("9.2.3", lambda passages, min_chars: list(dict.fromkeys(passages)), "short passages"),
    ("9.2.3", strip_first, "exactly as given"),
    ("9.2.3", set_order, "wrong order"),
    ("9.2.3", lambda passages, min_chars: passages, "expected"),
    ("9.2.3", lambda passages, min_chars: set(passages), "return a list"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: frozen_bytes * n_frozen + 12 * n_trainable, "12"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: frozen_bytes * n_frozen + 8 * n_trainable,
     "two moments only"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: 16 * (n_frozen + n_trainable), "frozen_bytes"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: 4 * n_frozen + 16 * n_trainable, "frozen_bytes"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: 16 * n_trainable, "leaves out the frozen"),
    ("9.2.4", lambda n_frozen, n_trainable, frozen_bytes=4.0: 2 * frozen_bytes * n_frozen, "should be"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    from torch import nn

    from utils import lora

    layer = lora.LoRALinear(nn.Linear(7, 5), r=3)
    assert lora.count_params(layer)["trainable"] == lora_param_count(7, 5, 3)

    def merge_with_library(W, A, B, alpha, r):
        base = nn.Linear(W.shape[1], W.shape[0], bias=False).double()
        with torch.no_grad():
            base.weight.copy_(W)
        m = lora.LoRALinear(base, r=r, alpha=alpha)
        with torch.no_grad():
            m.A.copy_(A)
            m.B.copy_(B)
        return (m.base.weight + m.delta_weight()).detach()

    assert evaluate("9.2.2", merge_with_library).passed
