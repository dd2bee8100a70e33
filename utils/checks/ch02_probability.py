"""Checkers for section 2.3 (probability)."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance

# The data of exercise 2.3.3, as defined in the chapter.
EXERCISE_LOGITS = np.array([2.0, 1.0, 0.5, 0.0, -1.0])


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
        raise not_close(f"{args}, P(D|+)", got, expected, rtol=1e-9, atol=1e-12)
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
                raise Wrong(f"your vector points the right way but sums to {numbers(pi.sum(), 1.0)[0]}: "
                            "replace one equation by sum(pi) = 1 (a row of ones, right-hand side 1)")
            raise Wrong(f"a distribution sums to 1; yours sums to {numbers(pi.sum(), 1.0)[0]} "
                        f"(the check allows {tolerance(1e-5, 1e-8)})")
        residual = np.abs(pi @ P - pi).max()
        yours, right = numbers(pi, expected)
        raise Wrong(f"for P = {np.round(P, 3).tolist()} expected pi = {right}, got {yours} (pi P - pi is off "
                    f"by up to {residual:.2g}; the check allows {tolerance(1e-5, 1e-8)} from the expected pi)")
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
    raise Wrong(f"at T = {T:.4g} the entropy is {numbers(H, 1.0)[0]} bits, not 1 (the check allows "
                f"{tolerance(atol=1e-3)}): try a {direction} temperature (entropy rises with T)")


# --- 2.3.4 choosing the order and k on validation data --------------------------
#
# The learner writes choose_model(train_text, valid_text, orders, ks) -> (order, k). It is run
# on texts the learner never sees: samples of random Markov chains whose true order is known,
# with grids that differ from case to case, so no fixed answer passes.

HIDDEN_CASES = [  # seed, alphabet, true order, training and validation length, Dirichlet concentration, grids
    dict(seed=1, alphabet="abcdefghij", order=1, n_train=3000, n_valid=3000, concentration=0.3,
         orders=[0, 1, 2, 3], ks=[1.0, 0.1, 0.01]),
    dict(seed=2, alphabet="abcdefgh", order=2, n_train=8000, n_valid=4000, concentration=0.2,
         orders=[1, 2, 3, 4], ks=[1.0, 0.1, 0.01, 0.001]),
    dict(seed=3, alphabet="abcdefghijkl", order=2, n_train=5000, n_valid=4000, concentration=0.5,
         orders=[0, 1, 2, 3], ks=[3.0, 1.0, 0.3, 0.03]),
]


def _markov_text(seed: int, alphabet: str, order: int, length: int, concentration: float) -> str:
    """A sample of a random order-``order`` Markov chain over ``alphabet``."""
    rng = np.random.default_rng(seed)
    V = len(alphabet)
    cumulative = np.cumsum(rng.dirichlet(np.full(V, concentration), size=V**order), axis=1)
    u = rng.random(length)
    idx = [int(i) for i in rng.integers(0, V, size=order)]
    code = 0
    for i in idx:
        code = code * V + i
    for t in range(order, length):
        c = min(int(np.searchsorted(cumulative[code], u[t] * cumulative[code, -1])), V - 1)
        idx.append(c)
        code = (code * V + c) % V**order if order else 0
    return "".join(alphabet[i] for i in idx)


@functools.lru_cache(maxsize=None)
def _hidden_case(index: int):
    """(train_text, valid_text, orders, ks, validation scores, training scores) of one hidden case."""
    from utils import prob

    case = HIDDEN_CASES[index]
    text = _markov_text(case["seed"], case["alphabet"], case["order"], case["n_train"] + case["n_valid"],
                        case["concentration"])
    train, valid = text[:case["n_train"]], text[case["n_train"]:]
    vocab = sorted(set(train + valid))
    on_valid, on_train = {}, {}
    for order in case["orders"]:
        counted = prob.markov_ngram_model(train, order, vocab=vocab)
        for k in case["ks"]:
            model = dataclasses.replace(counted, k=k)  # same counts, another smoothing constant
            on_valid[order, k] = model.cross_entropy(valid)
            on_train[order, k] = model.cross_entropy(train)
    return train, valid, list(case["orders"]), list(case["ks"]), on_valid, on_train


def _as_choice(value, orders, ks, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Wrong(f"{what} should return a tuple (order, k), got {type(value).__name__} ({value!r})")
    order, k = _as_float(value[0], "order"), _as_float(value[1], "k")

    def in_ks(x):
        return any(math.isclose(x, g, rel_tol=1e-9) for g in ks)

    if not (order.is_integer() and int(order) in orders):
        if in_ks(order) and k.is_integer() and int(k) in orders:
            raise Wrong(f"{what} returned {tuple(value)}: the order and k are swapped; return (order, k)")
        raise Wrong(f"{what} returned order {value[0]!r}, which is not one of orders = {orders}")
    if not in_ks(k):
        raise Wrong(f"{what} returned k = {value[1]!r}, which is not one of ks = {ks}")
    return int(order), next(g for g in ks if math.isclose(k, g, rel_tol=1e-9))


@exercise("2.3.4", "order and smoothing constant chosen on validation text")
def _check_choose_model(choose_model) -> str:
    chosen = []
    for index in range(len(HIDDEN_CASES)):
        train, valid, orders, ks, on_valid, on_train = _hidden_case(index)
        what = f"choose_model on hidden text {index + 1} (orders {orders}, ks {ks})"
        got = _as_choice(choose_model(train, valid, list(orders), list(ks)), orders, ks, what)
        best = min(on_valid, key=on_valid.get)
        if on_valid[got] <= on_valid[best] + 1e-9:
            chosen.append(got)
            continue
        if got == min(on_train, key=on_train.get):
            raise Wrong(f"{what} returned {got}, the setting that fits the *training* text best (the "
                        "highest order, the least smoothing: it has seen every context it is scored on); "
                        "score each setting by its cross-entropy on valid_text")
        if got == max(on_valid, key=on_valid.get):
            raise Wrong(f"{what} returned {got}, the setting with the *highest* validation cross-entropy: "
                        "lower is better, take the minimum")
        if got[0] == best[0]:
            yours, better = numbers(on_valid[got], on_valid[best])
            raise Wrong(f"{what}: the order {got[0]} is right, but k = {got[1]} gives {yours} bits/char on "
                        f"the validation text and another k in ks gives {better}; try every k for every order")
        if got[1] == best[1]:
            yours, better = numbers(on_valid[got], on_valid[best])
            raise Wrong(f"{what}: k = {got[1]} is right, but order {got[0]} gives {yours} bits/char on the "
                        f"validation text and another order gives {better}")
        yours, better = numbers(on_valid[got], on_valid[best])
        raise Wrong(f"{what} returned {got}, which gives {yours} bits/char on the validation "
                    f"text; another pair in the grid gives {better}. Score every (order, k) "
                    "pair on valid_text, with vocab = sorted(set(train_text + valid_text))")
    return ("the pair with the lowest validation cross-entropy on all three hidden texts: "
            + ", ".join(f"order {o}, k = {k}" for o, k in chosen)
            + " (their true orders: " + ", ".join(str(c["order"]) for c in HIDDEN_CASES) + ")")
