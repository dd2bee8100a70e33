"""Each checker of section 6.4 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
from checker_contract import contract_tests

from utils.checks import FAILED, evaluate


def cached_causal_mask(T_new, past):
    return np.tril(np.ones((T_new, past + T_new), dtype=bool), k=past)


def temperature_softmax(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def top_k_probs(probs, k):
    out = np.zeros_like(probs)
    keep = np.argsort(-probs)[:k]
    out[keep] = probs[keep]
    return out / out.sum()


def top_p_probs(probs, p):
    order = np.argsort(-probs)
    sorted_p = probs[order]
    keep = order[np.cumsum(sorted_p) - sorted_p < p]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum()


def perplexity_and_bits(loss_nats):
    return math.exp(loss_nats), loss_nats / math.log(2)


REFERENCE = {"6.4.1": cached_causal_mask, "6.4.2": temperature_softmax, "6.4.3": top_k_probs,
             "6.4.4": top_p_probs, "6.4.5": perplexity_and_bits}


def softmax_no_shift(logits, temperature):
    e = np.exp(np.asarray(logits, dtype=float) / temperature)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_axis0(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max())
    return e / e.sum(axis=0, keepdims=True)


def top_k_smallest(probs, k):
    out = np.zeros_like(probs)
    keep = np.argsort(probs)[:k]
    out[keep] = probs[keep]
    return out / out.sum()


def top_k_in_place(probs, k):
    probs[np.argsort(-probs)[k:]] = 0
    probs /= probs.sum()
    return probs


def top_p_too_few(probs, p):  # drops the entry that crosses p
    order = np.argsort(-probs)
    keep = order[np.cumsum(probs[order]) < p]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum() if out.sum() else out


def top_p_one_extra(probs, p):
    order = np.argsort(-probs)
    sorted_p = probs[order]
    n = int(np.sum(np.cumsum(sorted_p) - sorted_p < p)) + 1
    keep = order[:n]
    out = np.zeros_like(probs)
    out[keep] = probs[keep]
    return out / out.sum()


def top_p_unsorted(probs, p):
    keep = np.cumsum(probs) - probs < p
    out = np.where(keep, probs, 0.0)
    return out / out.sum()


WRONG = [
    ("6.4.1", lambda T_new, past: np.tril(np.ones((T_new, T_new), dtype=bool)), "columns"),
    ("6.4.1", lambda T_new, past: np.tril(np.ones((T_new, past + T_new), dtype=bool)), "shifted right"),
    ("6.4.1", lambda T_new, past: np.tril(np.ones((T_new, past + T_new), dtype=bool), k=past - 1), "itself"),
    ("6.4.1", lambda T_new, past: ~cached_causal_mask(T_new, past), "swapped"),
    ("6.4.1", lambda T_new, past: cached_causal_mask(T_new, past).astype(int), "boolean"),
    ("6.4.2", lambda z, t: temperature_softmax(np.asarray(z) * t * t, t), "don't multiply"),
    ("6.4.2", softmax_axis0, "axis=-1"),
    ("6.4.2", lambda z, t: temperature_softmax(z, 1.0), "ignored"),
    ("6.4.2", softmax_no_shift, "subtract the maximum"),
    ("6.4.3", top_k_smallest, "LARGEST"),
    ("6.4.3", lambda probs, k: np.where(np.isin(np.arange(len(probs)), np.argsort(-probs)[:k]), probs, 0.0),
     "renormalise"),
    ("6.4.3", lambda probs, k: top_k_probs(probs, k + 1), "off by one"),
    ("6.4.3", top_k_in_place, "copy"),
    ("6.4.4", top_p_too_few, "takes the running total"),
    ("6.4.4", top_p_one_extra, "SMALLEST"),
    ("6.4.4", top_p_unsorted, "sort"),
    ("6.4.4", lambda probs, p: np.where(top_p_probs(probs, p) > 0, probs, 0.0), "renormalise"),
    ("6.4.5", lambda loss: (2.0**loss, loss / math.log(2)), "e**loss"),
    ("6.4.5", lambda loss: (math.exp(loss), loss * math.log(2)), "divide by ln 2"),
    ("6.4.5", lambda loss: (loss / math.log(2), math.exp(loss)), "swapped"),
    ("6.4.5", lambda loss: math.exp(loss), "pair"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_top_p_keeps_the_top_entry_for_tiny_p():
    probs = np.array([0.1, 0.7, 0.2])
    assert evaluate("6.4.4", lambda probs, p: np.zeros_like(probs)).status == FAILED
    assert top_p_probs(probs, 0.01).tolist() == [0.0, 1.0, 0.0]
