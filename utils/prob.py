"""Probability built in chapter 2.3 and reused later in the course.

- :func:`softmax`, :func:`log_softmax`: scores (logits) to a probability
  distribution, numerically stable, with a temperature.
- :func:`cross_entropy`: the loss of every classifier and language model, in nats.
- :func:`entropy`: the entropy of a distribution, in nats or bits.
- :func:`stationary_distribution`: the long-run distribution of a Markov chain,
  found by power iteration (:func:`utils.linalg.power_iteration`).
- :func:`markov_ngram_model`, :func:`sample_markov`: a character-level Markov
  text model with add-k smoothing (the baseline of the small GPT in chapter 6).

Chapter 2.3 builds each of these inline and checks that its versions agree.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from utils.linalg import as_matrix, power_iteration


def _as_float_array(z, name: str) -> np.ndarray:
    """``z`` as a non-empty float64 array, or a ``TypeError``/``ValueError`` naming the problem."""
    if isinstance(z, (str, bytes)) or z is None:
        raise TypeError(f"{name} must be numbers (an array of scores), got {type(z).__name__}")
    try:
        arr = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers (an array of scores), got {type(z).__name__}") from err
    if arr.ndim == 0 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty array with at least one axis, got shape {arr.shape}")
    return arr


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}; "
                         "use a small value such as 0.01 for (almost) greedy choices")
    return float(temperature)


def _check_logits(z: np.ndarray, name: str, axis: int) -> None:
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError(f"{name} contains NaN or +inf; -inf is allowed (it masks an entry out)")
    if np.isneginf(z).all(axis=axis).any():
        raise ValueError(f"{name} has a slice along axis {axis} that is entirely -inf: "
                         "at least one entry per distribution must stay possible")


def log_softmax(z, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """``log softmax(z / temperature)`` along ``axis``, computed without overflow.

    Uses log softmax(z)_i = z_i - max(z) - log sum_j exp(z_j - max(z)): the
    largest exponent is exp(0) = 1, so nothing overflows even for z = 1000.
    """
    z = _as_float_array(z, "z") / _check_temperature(temperature)
    _check_logits(z, "z", axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """Probabilities ``exp(z_i / T) / sum_j exp(z_j / T)`` along ``axis``.

    Numerically stable (the maximum is subtracted first; adding a constant to
    every score changes nothing). A low temperature ``T`` sharpens the
    distribution towards the arg-max, a high one flattens it towards uniform.
    ``-inf`` scores get probability 0 (used to mask entries out).
    """
    return np.exp(log_softmax(z, temperature=temperature, axis=axis))


def entropy(p, base: float = np.e, axis: int = -1) -> np.ndarray | float:
    """Entropy ``-sum p log p`` of the distribution(s) ``p`` along ``axis`` (0 log 0 = 0).

    ``base=2`` gives bits, the default gives nats.
    """
    p = _as_float_array(p, "p")
    if (p < 0).any() or not np.allclose(p.sum(axis=axis), 1.0, atol=1e-6):
        raise ValueError("p must be a probability distribution: non-negative entries that sum to 1 "
                         f"along axis {axis}")
    if not base > 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {base}")
    terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    h = terms.sum(axis=axis) / np.log(base)
    return float(h) if np.ndim(h) == 0 else h


def cross_entropy(scores, targets, from_logits: bool = True, reduction: str = "mean"):
    """Cross-entropy ``-log q(target)`` in nats, like ``torch.nn.functional.cross_entropy``.

    - ``scores``: shape ``(n, k)`` (or ``(k,)`` for one example): logits when
      ``from_logits=True``, else probabilities (rows summing to 1).
    - ``targets``: integer class labels of shape ``(n,)`` (or a single int), or
      target distributions of the same shape as ``scores`` (soft labels).
    - ``reduction``: ``"mean"`` (a float), ``"sum"`` or ``"none"`` (one value per example).

    Minimising it over a data set is maximum likelihood: it is the average
    negative log-likelihood of the targets under the model.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    s = _as_float_array(scores, "scores")
    single = s.ndim == 1
    if single:
        s = s[None, :]
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (n, k) or (k,), got {s.shape}")
    n, k = s.shape
    if from_logits:
        log_q = log_softmax(s, axis=1)
    else:
        if (s < 0).any() or (s > 1).any() or not np.allclose(s.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("with from_logits=False, scores must be probabilities: entries in [0, 1] "
                             "and rows that sum to 1 (did you mean from_logits=True?)")
        with np.errstate(divide="ignore"):
            log_q = np.log(s)
    t = np.asarray(targets)
    if single and t.ndim == 0:
        t = t[None]
    elif single and t.ndim == 1 and t.shape == (k,) and np.issubdtype(t.dtype, np.floating):
        t = t[None, :]
    if t.ndim == 1:  # class labels
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(f"class labels must be integers, got dtype {t.dtype} "
                            "(for soft labels pass an (n, k) array of probabilities)")
        if t.shape != (n,):
            raise ValueError(f"{n} rows of scores but {t.shape[0]} labels")
        if (t < 0).any() or (t >= k).any():
            raise ValueError(f"labels must be in 0..{k - 1} for {k} classes, got min {t.min()} max {t.max()}")
        losses = -log_q[np.arange(n), t]
    elif t.ndim == 2:  # target distributions
        if t.shape != (n, k):
            raise ValueError(f"soft targets must have the shape of scores {(n, k)}, got {t.shape}")
        t = t.astype(np.float64)
        if (t < 0).any() or not np.allclose(t.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("soft targets must be probability distributions (rows >= 0 summing to 1)")
        losses = -np.where(t > 0, t * log_q, 0.0).sum(axis=1)
    else:
        raise ValueError(f"targets must be labels of shape ({n},) or distributions of shape {(n, k)}, "
                         f"got {t.shape}")
    if reduction == "none":
        return losses
    return float(losses.sum() if reduction == "sum" else losses.mean())


def check_transition_matrix(P, tol: float = 1e-8) -> np.ndarray:
    """``P`` as a float array if it is a square row-stochastic matrix, else a clear error."""
    P = as_matrix(P, "P")
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"a transition matrix must be square (states x states), got shape {P.shape}")
    if (P < 0).any():
        i, j = np.argwhere(P < 0)[0]
        raise ValueError(f"transition probabilities must be >= 0, but P[{i}, {j}] = {P[i, j]:.3g}")
    sums = P.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > tol)
    if bad.size:
        hint = " (columns sum to 1: transpose it?)" if np.allclose(P.sum(axis=0), 1, atol=tol) else ""
        raise ValueError(f"each row of P must sum to 1 (row i = where state i goes next); row {bad[0]} "
                         f"sums to {sums[bad[0]]:.6g}{hint}")
    return P


def stationary_distribution(P, num_iters: int = 100_000, tol: float = 1e-13) -> np.ndarray:
    """The distribution ``pi`` with ``pi P = pi`` of the Markov chain with transition matrix ``P``.

    ``P[i, j]`` is the probability of moving from state i to state j, so every
    row sums to 1. ``pi P = pi`` says that ``pi`` is an eigenvector of ``P.T``
    with eigenvalue 1, found here by power iteration. The iteration runs on the
    *lazy* chain ``(P + I) / 2``, which has the same stationary distribution but
    no eigenvalue -1, so periodic chains (e.g. 0 -> 1 -> 0) converge too. For an
    irreducible chain the answer is unique; with several closed classes it is
    one of many (the one reached from the uniform start).
    """
    P = check_transition_matrix(P)
    lazy = 0.5 * (P + np.eye(len(P)))
    _, v = power_iteration(lazy.T, num_iters=num_iters, tol=tol)
    v = v / v.sum()  # the eigenvector's sign is arbitrary; its entries share one sign
    return np.clip(v, 0.0, None) / np.clip(v, 0.0, None).sum()


def _encode(text: str, vocab: list[str]) -> np.ndarray:
    """Indices of the characters of ``text`` in the sorted list ``vocab`` (ValueError if one is missing)."""
    points = np.array([ord(c) for c in vocab], dtype=np.int64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    idx = np.searchsorted(points, codes)
    bad = (idx >= len(points)) | (points[np.minimum(idx, len(points) - 1)] != codes)
    if bad.any():
        unknown = sorted({chr(c) for c in codes[bad]})
        raise ValueError(f"text contains characters outside the model's vocabulary: {unknown[:10]}; "
                         "build the model with vocab= covering every character")
    return idx


def _context_codes(idx: np.ndarray, order: int, V: int) -> np.ndarray:
    """One integer per position i >= order: the previous ``order`` characters as a base-V number."""
    n = len(idx) - order
    codes = np.zeros(n, dtype=np.int64)
    for j in range(order):
        codes = codes * V + idx[j:j + n]
    return codes


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values[keys == q]`` for each query (0 where the sorted ``keys`` lack ``q``)."""
    order = np.argsort(queries)  # sorted queries make the binary searches cache-friendly (2x faster)
    sorted_queries = queries[order]
    pos = np.minimum(np.searchsorted(keys, sorted_queries), len(keys) - 1)
    out = np.empty(len(queries), dtype=values.dtype)
    out[order] = np.where(keys[pos] == sorted_queries, values[pos], 0)
    return out


@dataclass
class MarkovModel:
    """A character-level Markov model: P(next char | previous ``order`` chars).

    The counts are stored as sorted integer codes: a context of ``order``
    characters is a number in base |V|, and a (context, next character) pair
    is ``context * |V| + next``. Probabilities use add-k smoothing,
    (count + k) / (total + k |V|): an unseen context gets the uniform
    distribution, an unseen next character probability k / (total + k |V|).
    """

    order: int
    k: float
    vocab: list[str]
    gram_codes: np.ndarray  # sorted codes of the (context, next char) pairs seen in training
    gram_counts: np.ndarray  # how often each pair was seen
    context_codes: np.ndarray  # sorted codes of the contexts seen
    context_totals: np.ndarray  # how often each context was seen (followed by anything)

    def _context_code(self, context: str) -> int:
        if not isinstance(context, str):
            raise TypeError(f"context must be a string, got {type(context).__name__}")
        if len(context) < self.order:
            raise ValueError(f"an order-{self.order} model needs a context of at least {self.order} "
                             f"characters, got {context!r}")
        idx = _encode(context[len(context) - self.order:], self.vocab)
        code = 0
        for i in idx:
            code = code * len(self.vocab) + int(i)
        return code

    def next_counts(self, context: str) -> dict[str, int]:
        """How often each character followed the last ``order`` characters of ``context``."""
        V = len(self.vocab)
        code = self._context_code(context)
        lo, hi = np.searchsorted(self.gram_codes, [code * V, code * V + V])
        return {self.vocab[int(g % V)]: int(c) for g, c in zip(self.gram_codes[lo:hi], self.gram_counts[lo:hi])}

    def next_probs(self, context: str) -> np.ndarray:
        """P(next char | the last ``order`` characters of ``context``), an array over ``vocab``."""
        V = len(self.vocab)
        code = self._context_code(context)
        lo, hi = np.searchsorted(self.gram_codes, [code * V, code * V + V])
        row = np.full(V, float(self.k))
        row[self.gram_codes[lo:hi] % V] += self.gram_counts[lo:hi]
        total = row.sum()
        if total == 0:
            raise ValueError(f"context {context[len(context) - self.order:]!r} never occurs in the training "
                             "text and k = 0: the unsmoothed model has no prediction (use k > 0)")
        return row / total

    def cross_entropy(self, text: str, base: float = 2.0) -> float:
        """Average ``-log P(char | previous chars)`` over ``text`` (bits by default; ``base=np.e``: nats).

        Every position from ``order`` on is predicted from the true preceding
        characters. With k = 0 (no smoothing) a character never seen after its
        context has probability 0, so the result is ``inf``, and a context never
        seen at all has no prediction (``ValueError``).
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if len(text) <= self.order:
            raise ValueError(f"text must be longer than the order ({self.order}), got {len(text)} characters")
        V = len(self.vocab)
        idx = _encode(text, self.vocab)
        contexts = _context_codes(idx, self.order, V)
        counts = _lookup(self.gram_codes, self.gram_counts, contexts * V + idx[self.order:])
        totals = _lookup(self.context_codes, self.context_totals, contexts)
        numerator, denominator = counts + self.k, totals + self.k * V
        if (denominator == 0).any():
            raise ValueError("the text has a context never seen in training and k = 0: "
                             "the unsmoothed model has no prediction there (use k > 0)")
        if (numerator == 0).any():
            return float("inf")
        return float(-np.mean(np.log(numerator / denominator)) / np.log(base))


def markov_ngram_model(text: str, order: int, k: float = 1.0, vocab=None) -> MarkovModel:
    """Count which character follows each ``order``-character context in ``text``.

    ``order=0`` is the unigram model (character frequencies), ``order=1`` a
    bigram model, and so on. ``k`` is the add-k smoothing constant (``k=0`` is
    the plain maximum-likelihood estimate). ``vocab`` defaults to the
    characters of ``text``; pass a larger one when held-out text has more.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    if len(text) <= order:
        raise ValueError(f"text ({len(text)} characters) must be longer than the order ({order})")
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)) or not k >= 0:
        raise ValueError(f"k must be a number >= 0, got {k!r}")
    vocab = sorted(set(text)) if vocab is None else sorted(set(vocab))
    missing = set(text) - set(vocab)
    if missing:
        raise ValueError(f"vocab lacks characters that occur in text: {sorted(missing)[:10]}")
    V = len(vocab)
    if float(V) ** (order + 1) >= 2.0**62:
        raise ValueError(f"order {order} is too high for {V} distinct characters (the codes would "
                         "overflow 64-bit integers); such a model would not generalise anyway")
    idx = _encode(text, vocab)
    contexts = _context_codes(idx, order, V)
    gram_codes, gram_counts = np.unique(contexts * V + idx[order:], return_counts=True)
    context_codes, context_totals = np.unique(contexts, return_counts=True)
    return MarkovModel(int(order), float(k), vocab, gram_codes, gram_counts, context_codes, context_totals)


def sample_markov(model: MarkovModel, length: int, rng: np.random.Generator, prompt: str | None = None,
                  temperature: float = 1.0) -> str:
    """Generate ``length`` characters from ``model``, one at a time.

    Starts from ``prompt`` (default: a context drawn from the training text in
    proportion to its frequency). ``temperature`` rescales the log-probabilities
    before sampling (below 1: safer, more repetitive; above 1: more random).
    Returns the prompt followed by the generated characters.
    """
    if not isinstance(model, MarkovModel):
        raise TypeError(f"model must be a MarkovModel (from markov_ngram_model), got {type(model).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy Generator, e.g. utils.core.seed_everything(0)")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be a non-negative integer, got {length!r}")
    temperature = _check_temperature(temperature)
    V = len(model.vocab)
    if prompt is None:
        code = model.context_codes[rng.choice(len(model.context_codes),
                                              p=model.context_totals / model.context_totals.sum())]
        prompt = "".join(model.vocab[(int(code) // V**j) % V] for j in reversed(range(model.order)))
    if not isinstance(prompt, str) or len(prompt) < model.order:
        raise ValueError(f"the prompt must be a string of at least {model.order} characters for an "
                         f"order-{model.order} model, got {prompt!r}")
    out = prompt
    for _ in range(length):
        p = model.next_probs(out)
        if temperature != 1.0:
            with np.errstate(divide="ignore"):
                p = softmax(np.log(p), temperature=temperature)
        out += model.vocab[rng.choice(V, p=p)]
    return out
