"""Checkers for section 6.4 (text generation: a small GPT)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _array(value, what: str, shape: tuple | None = None, dtype=np.float64) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a NumPy array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    return arr


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _reference_top_p(probs: np.ndarray, p: float) -> np.ndarray:
    order = np.argsort(-probs, kind="stable")
    sorted_p = probs[order]
    keep_sorted = np.cumsum(sorted_p) - sorted_p < p
    out = np.zeros_like(probs)
    out[order[keep_sorted]] = sorted_p[keep_sorted]
    return out / out.sum()


# --- 6.4 Text generation: a small GPT -----------------------------------------------------

@exercise("6.4.1", "causal mask with a KV cache")
def _check_cached_mask(cached_causal_mask) -> str:
    for T_new, past in ((4, 0), (3, 6), (1, 0), (1, 5), (5, 2)):
        raw = cached_causal_mask(T_new, past)
        mask = np.asarray(raw)
        expected = np.tril(np.ones((T_new, past + T_new), dtype=bool), k=past)
        if mask.shape == (T_new, T_new) and past > 0:
            raise Wrong(f"for T_new={T_new}, past={past} the mask has shape {mask.shape}: the keys are the "
                        f"{past} cached positions plus the {T_new} new ones, so it needs {past + T_new} columns")
        if mask.shape != expected.shape:
            raise Wrong(f"cached_causal_mask({T_new}, {past}) should have shape (T_new, past + T_new) = "
                        f"{expected.shape}, got {mask.shape}")
        if mask.dtype != bool:
            raise Wrong(f"the mask should be boolean (True = may attend), got dtype {mask.dtype}")
        if np.array_equal(mask, expected):
            continue
        if np.array_equal(mask, np.tril(np.ones_like(expected), k=past - 1)):
            raise Wrong("each position may attend to itself: include the key at the query's own position")
        if np.array_equal(mask, ~expected):
            raise Wrong("True and False are swapped: True must mark the keys a query MAY attend to")
        if np.array_equal(mask, np.tril(np.ones_like(expected), k=0)):
            raise Wrong(f"new query i sits at absolute position past + i = {past} + i: it may see all {past} "
                        "cached keys, so the diagonal of the mask is shifted right by `past`")
        row = int(np.flatnonzero((mask != expected).any(axis=1))[0])
        raise Wrong(f"for T_new={T_new}, past={past}, new query {row} should see keys 0..{past + row}, "
                    f"but your row is {mask[row].astype(int).tolist()}")
    return "masks of five (T_new, past) shapes, with and without a cache, are right"


@exercise("6.4.2", "softmax with a temperature")
def _check_temperature_softmax(temperature_softmax) -> str:
    rng = np.random.default_rng(642)
    z = rng.normal(scale=2.0, size=(3, 7))
    for t in (1.0, 0.5, 2.0, 3.7):
        out = _array(temperature_softmax(z.copy(), t), f"temperature_softmax(logits, {t})", z.shape)
        expected = _softmax(z / t)
        if np.allclose(out, expected, atol=1e-10):
            continue
        if np.allclose(out, _softmax(z * t), atol=1e-10):
            raise Wrong(f"at temperature {t} you sharpened where you should flatten: divide the logits by the "
                        "temperature, p_i ∝ exp(z_i / τ), don't multiply")
        if np.allclose(out.sum(axis=0), 1.0) and not np.allclose(out.sum(axis=-1), 1.0):
            raise Wrong("each row (the last axis) should sum to 1: normalise along axis=-1, not axis 0")
        if np.allclose(out, _softmax(z), atol=1e-10):
            raise Wrong(f"the temperature is ignored: at τ = {t} the result equals the plain softmax")
        raise Wrong(f"at temperature {t} the probabilities differ from exp(z/τ) / Σ exp(z/τ) "
                    f"(largest difference {np.abs(out - expected).max():.3g}; the check allows "
                    f"{tolerance(1e-5, 1e-10)})")
    with np.errstate(all="ignore"):
        big = _array(temperature_softmax(np.array([1000.0, 999.0, 0.0]), 1.0), "the result for [1000, 999, 0]", (3,))
    if not np.all(np.isfinite(big)):
        raise Wrong("logits [1000, 999, 0] give NaN or inf: exp(1000) overflows; subtract the maximum "
                    "logit before exponentiating (it does not change the result)")
    if not np.allclose(big, _softmax(np.array([1000.0, 999.0, 0.0]))):
        yours, right = numbers(big, _softmax(np.array([1000.0, 999.0, 0.0])), digits=3)
        raise Wrong(f"for logits [1000, 999, 0] expected {right}, got {yours} (the check allows "
                    f"{tolerance(1e-5, 1e-8)})")
    return "matches softmax(z / τ) for four temperatures, row by row, and stays finite for large logits"


@exercise("6.4.3", "top-k filtering")
def _check_top_k(top_k_probs) -> str:
    rng = np.random.default_rng(643)
    for size, k in ((10, 3), (10, 1), (12, 5), (6, 6)):
        probs = rng.dirichlet(np.ones(size))
        before = probs.copy()
        out = _array(top_k_probs(probs, k), f"top_k_probs(probs, {k})", probs.shape)
        if not np.array_equal(probs, before):
            raise Wrong("top_k_probs changed its input array: work on a copy")
        order = np.argsort(-probs)
        expected = np.zeros(size)
        expected[order[:k]] = probs[order[:k]]
        expected /= expected.sum()
        if np.allclose(out, expected, atol=1e-12):
            continue
        nonzero = int((out > 0).sum())
        if k < size and nonzero and set(np.flatnonzero(out > 0)) == set(order[-nonzero:]):
            raise Wrong("you kept the smallest probabilities: keep the k LARGEST")
        if nonzero != k:
            raise Wrong(f"with k={k} exactly {k} entries should stay non-zero, yours has {nonzero} (off by one?)")
        if set(np.flatnonzero(out > 0)) != set(order[:k]):
            raise Wrong(f"with k={k} the kept entries should be the {k} largest probabilities")
        if not np.isclose(out.sum(), 1.0):
            raise Wrong(f"the result sums to {numbers(out.sum(), 1.0)[0]} (the check allows {tolerance(1e-5, 1e-8)}): "
                        "renormalise the kept probabilities so they sum to 1")
        yours, right = numbers(out, expected)
        raise Wrong(f"the kept entries should keep their proportions: expected {right}, got {yours} "
                    f"(the check allows {tolerance(1e-5, 1e-12)})")
    return "keeps the k largest probabilities and renormalises, for four (size, k) pairs, input untouched"


@exercise("6.4.4", "top-p (nucleus) filtering")
def _check_top_p(top_p_probs) -> str:
    rng = np.random.default_rng(644)
    cases = [(rng.dirichlet(np.ones(10) * 0.7), p) for p in (0.5, 0.9, 0.75)]
    cases.append((np.array([0.05, 0.6, 0.1, 0.25]), 0.3))  # the top entry alone already reaches p
    cases.append((np.array([0.3, 0.1, 0.2, 0.4]), 0.65))  # sorted order differs from the given order
    for probs, p in cases:
        before = probs.copy()
        out = _array(top_p_probs(probs, p), f"top_p_probs(probs, {p})", probs.shape)
        if not np.array_equal(probs, before):
            raise Wrong("top_p_probs changed its input array: work on a copy")
        expected = _reference_top_p(probs, p)
        if np.allclose(out, expected, atol=1e-12):
            continue
        kept = out > 0
        if not kept.any():
            raise Wrong(f"with p={p} nothing is kept: the most likely entry is always kept")
        mass = probs[kept].sum()
        order = np.argsort(-probs)
        n_kept, n_expected = int(kept.sum()), int((expected > 0).sum())
        if set(np.flatnonzero(kept)) != set(order[:n_kept]):
            raise Wrong("the kept entries must be the most likely ones: sort the probabilities in decreasing "
                        "order before accumulating them")
        if mass < p - 1e-12:
            raise Wrong(f"with p={p} your kept entries have total probability {numbers(mass, p, digits=3)[0]} < p: "
                        "include the entry that takes the running total to p or beyond")
        if n_kept > n_expected:
            raise Wrong(f"with p={p} you keep {n_kept} entries but {n_expected} already reach p: keep the "
                        "SMALLEST set whose total is at least p")
        if not np.isclose(out.sum(), 1.0):
            raise Wrong(f"the result sums to {numbers(out.sum(), 1.0)[0]} (the check allows {tolerance(1e-5, 1e-8)}): "
                        "renormalise the kept probabilities so they sum to 1")
        yours, right = numbers(out, expected)
        raise Wrong(f"for probs {np.round(probs, 3).tolist()} and p={p} expected {right}, got {yours} "
                    f"(the check allows {tolerance(1e-5, 1e-12)})")
    return "keeps the smallest most-likely set reaching p and renormalises, in five cases"


@exercise("6.4.5", "perplexity and bits per character")
def _check_perplexity(perplexity_and_bits) -> str:
    for loss in (0.0, 2.0, math.log(84), 1.3):
        out = perplexity_and_bits(loss)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise Wrong("perplexity_and_bits should return a pair (perplexity, bits_per_char)")
        try:
            ppl, bits = float(out[0]), float(out[1])
        except (TypeError, ValueError):
            raise Wrong(f"both values should be numbers, got {out!r}")
        exp_ppl, exp_bits = math.exp(loss), loss / math.log(2)
        if math.isclose(ppl, exp_bits, rel_tol=1e-9, abs_tol=1e-12) and \
                math.isclose(bits, exp_ppl, rel_tol=1e-9):
            raise Wrong("the pair is swapped: return (perplexity, bits_per_char)")
        if not math.isclose(ppl, exp_ppl, rel_tol=1e-9):
            if math.isclose(ppl, 2.0**loss, rel_tol=1e-9):
                raise Wrong("the loss is in nats, so perplexity is e**loss (2**loss is for a loss in bits)")
            raise not_close(f"for a loss of {loss:.4g} nats the perplexity", ppl, exp_ppl, rtol=1e-9,
                            named=f"e^{loss:.4g}")
        if not math.isclose(bits, exp_bits, rel_tol=1e-9, abs_tol=1e-12):
            if math.isclose(bits, loss * math.log(2), rel_tol=1e-9):
                raise Wrong("to turn nats into bits divide by ln 2 (1 nat = 1.4427 bits), don't multiply")
            raise not_close(f"{loss:.4g} nats in bits", bits, exp_bits, rtol=1e-9, atol=1e-12)
    return "e^loss and loss / ln 2 for four losses, including the uniform model's ln 84 (perplexity 84)"
