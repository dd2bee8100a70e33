"""utils.prob against PyTorch, NumPy's eigen-solver and brute-force counting; bad inputs give clear errors."""
import dataclasses
import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from utils import prob

finite_logits = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                       elements=st.floats(-50, 50, allow_nan=False))


# --- softmax, log_softmax, entropy ------------------------------------------------

@pytest.mark.parametrize("temperature", [0.1, 1.0, 3.5])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_matches_torch(temperature, axis):
    z = np.random.default_rng(0).normal(scale=4, size=(6, 9))
    expected = torch.softmax(torch.tensor(z) / temperature, dim=axis).numpy()
    assert np.allclose(prob.softmax(z, temperature=temperature, axis=axis), expected, atol=1e-12)
    expected_log = torch.log_softmax(torch.tensor(z) / temperature, dim=axis).numpy()
    assert np.allclose(prob.log_softmax(z, temperature=temperature, axis=axis), expected_log, atol=1e-12)


def test_softmax_is_stable_for_huge_logits_and_masks_minus_infinity():
    z = np.array([1000.0, 999.0, -np.inf])
    p = prob.softmax(z)
    assert np.all(np.isfinite(p)) and p[2] == 0.0
    assert np.allclose(p[:2], [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])
    assert np.isfinite(prob.log_softmax(np.array([-1000.0, 0.0]))).all()


@settings(max_examples=60, deadline=None)
@given(finite_logits, st.floats(-100, 100), st.floats(0.05, 20))
def test_softmax_properties(z, shift, temperature):
    p = prob.softmax(z, temperature=temperature)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1.0)
    assert np.allclose(prob.softmax(z + shift, temperature=temperature), p, atol=1e-12)  # shift-invariant
    assert np.allclose(np.exp(prob.log_softmax(z, temperature=temperature)), p)
    rows = np.arange(len(z))
    assert np.allclose(p[rows, z.argmax(axis=-1)], p.max(axis=-1))  # the largest logit gets the largest probability


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(2, 8), elements=st.floats(-10, 10, allow_nan=False)))
def test_entropy_rises_with_temperature(z):
    if np.ptp(z) < 1e-3:
        return  # all logits equal: the distribution is uniform at every temperature
    entropies = [prob.entropy(prob.softmax(z, temperature=T)) for T in (0.1, 0.5, 1.0, 2.0, 10.0)]
    assert np.all(np.diff(entropies) > -1e-12)
    assert entropies[-1] <= math.log(len(z)) + 1e-12


def test_entropy_known_values():
    assert math.isclose(prob.entropy(np.full(8, 1 / 8), base=2), 3.0)
    assert math.isclose(prob.entropy([1.0, 0.0]), 0.0)
    assert math.isclose(prob.entropy([0.5, 0.5]), math.log(2))
    assert np.allclose(prob.entropy(np.array([[0.5, 0.5], [1.0, 0.0]]), base=2), [1.0, 0.0])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: prob.softmax("abc"), TypeError, "must be numbers"),
        (lambda: prob.softmax(None), TypeError, "must be numbers"),
        (lambda: prob.softmax([]), ValueError, "non-empty"),
        (lambda: prob.softmax(3.0), ValueError, "at least one axis"),
        (lambda: prob.softmax([1.0, np.nan]), ValueError, "NaN"),
        (lambda: prob.softmax([1.0, np.inf]), ValueError, r"\+inf"),
        (lambda: prob.softmax([-np.inf, -np.inf]), ValueError, "entirely -inf"),
        (lambda: prob.softmax([1.0, 2.0], temperature=0), ValueError, "positive"),
        (lambda: prob.softmax([1.0, 2.0], temperature=-1.0), ValueError, "positive"),
        (lambda: prob.softmax([1.0, 2.0], temperature="hot"), TypeError, "temperature must be a number"),
        (lambda: prob.softmax([1.0, 2.0], temperature=True), TypeError, "temperature must be a number"),
        (lambda: prob.entropy([0.5, 0.6]), ValueError, "probability distribution"),
        (lambda: prob.entropy([1.5, -0.5]), ValueError, "probability distribution"),
        (lambda: prob.entropy([0.5, 0.5], base=1), ValueError, "base"),
    ],
)
def test_softmax_and_entropy_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- cross-entropy ------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_labels_matches_torch(reduction):
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(scale=3, size=(20, 6)), rng.integers(0, 6, size=20)
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(labels), reduction=reduction).numpy()
    assert np.allclose(prob.cross_entropy(logits, labels, reduction=reduction), expected, atol=1e-12)


def test_cross_entropy_with_soft_targets_matches_torch():
    rng = np.random.default_rng(2)
    logits, targets = rng.normal(size=(15, 4)), rng.dirichlet(np.ones(4), size=15)
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(targets)).item()
    assert math.isclose(prob.cross_entropy(logits, targets), expected, rel_tol=1e-12)
    one_hot = np.eye(4)[rng.integers(0, 4, size=15)]  # one-hot soft targets == integer labels
    assert math.isclose(prob.cross_entropy(logits, one_hot), prob.cross_entropy(logits, one_hot.argmax(1)))


def test_cross_entropy_from_probabilities_and_single_example():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(10, 5)), rng.integers(0, 5, size=10)
    p = prob.softmax(logits)
    assert math.isclose(prob.cross_entropy(p, labels, from_logits=False), prob.cross_entropy(logits, labels))
    assert math.isclose(prob.cross_entropy(logits[0], int(labels[0])), -np.log(p[0, labels[0]]))
    assert math.isclose(prob.cross_entropy(logits[0], p[0]), prob.entropy(p[0]))  # H(p, p) = H(p)
    assert prob.cross_entropy(np.array([1.0, 0.0]), 1, from_logits=False) == math.inf


@settings(max_examples=40, deadline=None)
@given(finite_logits)
def test_cross_entropy_is_at_least_the_entropy(z):
    """Gibbs' inequality: H(p, q) >= H(p), with equality at q = p (minimum cross-entropy = MLE)."""
    p = prob.softmax(z)
    other = z[:, ::-1]  # another distribution over the same classes
    assert np.all(prob.cross_entropy(other, p, reduction="none") >= prob.entropy(p) - 1e-9)
    assert np.allclose(prob.cross_entropy(z, p, reduction="none"), prob.entropy(p))


@pytest.mark.parametrize(
    "scores, targets, kwargs, error, message",
    [
        (np.zeros((3, 4)), np.array([0, 1, 4]), {}, ValueError, "labels must be in 0..3"),
        (np.zeros((3, 4)), np.array([0, 1]), {}, ValueError, "3 rows of scores but 2 labels"),
        (np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]), {}, TypeError, "must be integers"),
        (np.zeros((3, 4)), np.full((3, 3), 1 / 3), {}, ValueError, "shape of scores"),
        (np.zeros((3, 4)), np.full((3, 4), 0.3), {}, ValueError, "probability distributions"),
        (np.zeros((3, 4)), np.array([0, 1, 2]), {"from_logits": False}, ValueError, "from_logits=True"),
        (np.zeros((3, 4)), np.array([0, 1, 2]), {"reduction": "avg"}, ValueError, "reduction"),
        (np.zeros((2, 3, 4)), np.array([0, 1]), {}, ValueError, r"shape \(n, k\)"),
        ("logits", np.array([0]), {}, TypeError, "must be numbers"),
    ],
)
def test_cross_entropy_bad_inputs(scores, targets, kwargs, error, message):
    with pytest.raises(error, match=message):
        prob.cross_entropy(scores, targets, **kwargs)


# --- stationary distribution --------------------------------------------------------

def random_chain(rng, n):
    P = rng.random((n, n)) ** 2 + 0.01
    return P / P.sum(axis=1, keepdims=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 10_000))
def test_stationary_distribution_is_the_eigenvector_of_P_transpose(n, seed):
    P = random_chain(np.random.default_rng(seed), n)
    pi = prob.stationary_distribution(P)
    eigvals, eigvecs = np.linalg.eig(P.T)
    v = eigvecs[:, np.argmin(np.abs(eigvals - 1))].real
    assert np.allclose(pi, v / v.sum(), atol=1e-9)
    assert np.allclose(pi @ P, pi, atol=1e-10) and math.isclose(pi.sum(), 1.0) and (pi >= 0).all()


def test_stationary_distribution_of_periodic_and_absorbing_chains():
    assert np.allclose(prob.stationary_distribution([[0.0, 1.0], [1.0, 0.0]]), [0.5, 0.5])
    cycle = np.roll(np.eye(3), 1, axis=1)  # 0 -> 1 -> 2 -> 0, eigenvalues are the cube roots of 1
    assert np.allclose(prob.stationary_distribution(cycle), [1 / 3] * 3)
    absorbing = np.array([[0.5, 0.5], [0.0, 1.0]])
    assert np.allclose(prob.stationary_distribution(absorbing), [0.0, 1.0])


@pytest.mark.parametrize(
    "P, error, message",
    [
        (np.full((2, 3), 1 / 3), ValueError, "must be square"),
        (np.array([0.5, 0.5]), ValueError, "2-D"),
        (np.array([[1.2, -0.2], [0.5, 0.5]]), ValueError, r"must be >= 0, but P\[0, 1\]"),
        (np.array([[0.5, 0.4], [0.5, 0.5]]), ValueError, "row 0 sums to 0.9"),
        (np.array([[0.7, 0.6], [0.3, 0.4]]), ValueError, "transpose it"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), ValueError, "NaN"),
        ("P", TypeError, "numeric matrix"),
    ],
)
def test_stationary_distribution_bad_inputs(P, error, message):
    with pytest.raises(error, match=message):
        prob.stationary_distribution(P)


# --- the character-level Markov model ------------------------------------------------

TEXT = "the cat sat on the mat. the hat is on the cat. that is that.\n" * 3


def brute_force_probs(text, order, k, vocab, context):
    follow = Counter(text[i] for i in range(order, len(text)) if text[i - order:i] == context)
    total = sum(follow.values())
    return np.array([(follow[c] + k) / (total + k * len(vocab)) for c in vocab])


@pytest.mark.parametrize("order", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("k", [0.0, 0.5, 1.0])
def test_markov_model_matches_brute_force_counting(order, k):
    vocab = sorted(set(TEXT) | {"z"})
    model = prob.markov_ngram_model(TEXT, order, k=k, vocab=vocab)
    for i in range(order, len(TEXT), 7):
        context = TEXT[i - order:i]
        assert np.allclose(model.next_probs(context), brute_force_probs(TEXT, order, k, vocab, context))
    assert model.next_counts(TEXT[:order]) == dict(
        Counter(TEXT[i] for i in range(order, len(TEXT)) if TEXT[i - order:i] == TEXT[:order]))
    if k > 0:
        held_out = "the mat sat on that hat."
        expected = -np.mean([np.log2(brute_force_probs(TEXT, order, k, vocab, held_out[i - order:i])[
            vocab.index(held_out[i])]) for i in range(order, len(held_out))])
        assert math.isclose(model.cross_entropy(held_out), expected, rel_tol=1e-10)
        assert math.isclose(model.cross_entropy(held_out, base=math.e), expected * math.log(2), rel_tol=1e-10)


def test_markov_model_smoothing_and_zero_probabilities():
    vocab = sorted(set(TEXT) | {"z", "q"})
    smoothed = prob.markov_ngram_model(TEXT, 2, k=1.0, vocab=vocab)
    assert np.allclose(smoothed.next_probs("zq"), 1 / len(vocab))  # unseen context: uniform
    mle = dataclasses.replace(smoothed, k=0.0)
    assert mle.cross_entropy("the caz") == math.inf  # 'z' never follows 'ca'
    with pytest.raises(ValueError, match="never seen in training"):
        mle.cross_entropy("zq the")
    with pytest.raises(ValueError, match="use k > 0"):
        mle.next_probs("zq")
    assert smoothed.cross_entropy(TEXT) < prob.markov_ngram_model(TEXT, 0, k=1.0, vocab=vocab).cross_entropy(TEXT)


def test_order_zero_model_is_the_character_frequencies():
    model = prob.markov_ngram_model(TEXT, 0, k=0.0)
    freq = Counter(TEXT)
    assert np.allclose(model.next_probs(""), [freq[c] / len(TEXT) for c in model.vocab])
    p = model.next_probs("")
    assert math.isclose(model.cross_entropy(TEXT), prob.entropy(p, base=2))  # MLE: H(p_hat, q) = H(p_hat)


def test_sample_markov_is_deterministic_and_follows_the_counts():
    model = prob.markov_ngram_model(TEXT, 2, k=0.0)
    a = prob.sample_markov(model, 200, np.random.default_rng(5), prompt="th")
    b = prob.sample_markov(model, 200, np.random.default_rng(5), prompt="th")
    assert a == b and len(a) == 202 and a.startswith("th")
    seen = {TEXT[i:i + 3] for i in range(len(TEXT) - 2)}
    assert all(a[i:i + 3] in seen for i in range(len(a) - 2))  # k = 0: only transitions seen in training
    free = prob.sample_markov(model, 50, np.random.default_rng(6))  # prompt drawn from the training contexts
    assert len(free) == 52 and free[:2] in {TEXT[i:i + 2] for i in range(len(TEXT) - 1)}
    greedy = prob.sample_markov(model, 30, np.random.default_rng(7), prompt="th", temperature=1e-3)
    again = prob.sample_markov(model, 30, np.random.default_rng(8), prompt="th", temperature=1e-3)
    assert greedy == again  # T -> 0: the arg-max path, whatever the random numbers


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: prob.markov_ngram_model(["t", "h"], 1), TypeError, "text must be a string"),
        (lambda: prob.markov_ngram_model(TEXT, -1), ValueError, "non-negative integer"),
        (lambda: prob.markov_ngram_model(TEXT, 1.5), ValueError, "non-negative integer"),
        (lambda: prob.markov_ngram_model("ab", 2), ValueError, "longer than the order"),
        (lambda: prob.markov_ngram_model(TEXT, 1, k=-0.1), ValueError, "k must be a number >= 0"),
        (lambda: prob.markov_ngram_model(TEXT, 1, vocab="abc"), ValueError, "vocab lacks"),
        (lambda: prob.markov_ngram_model(TEXT, 40), ValueError, "too high"),
        (lambda: prob.markov_ngram_model(TEXT, 1).cross_entropy("the dog"), ValueError, "outside the model's vocabulary"),
        (lambda: prob.markov_ngram_model(TEXT, 3).cross_entropy("th"), ValueError, "longer than the order"),
        (lambda: prob.markov_ngram_model(TEXT, 3).next_probs("t"), ValueError, "at least 3"),
        (lambda: prob.sample_markov(prob.markov_ngram_model(TEXT, 3), 5, np.random.default_rng(0), prompt="t"),
         ValueError, "at least 3"),
        (lambda: prob.sample_markov(prob.markov_ngram_model(TEXT, 1), 5, 0), TypeError, "numpy Generator"),
        (lambda: prob.sample_markov("model", 5, np.random.default_rng(0)), TypeError, "MarkovModel"),
        (lambda: prob.sample_markov(prob.markov_ngram_model(TEXT, 1), -1, np.random.default_rng(0)),
         ValueError, "non-negative"),
    ],
)
def test_markov_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()
