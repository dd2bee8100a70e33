"""Checkers for section 6.1 (word embeddings)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _float(value, what: str) -> float:
    if isinstance(value, (np.ndarray, list, tuple)) and np.size(value) != 1:
        raise Wrong(f"{what} should be one number, got an array of shape {np.shape(value)}")
    try:
        out = float(np.asarray(value, dtype=np.float64).ravel()[0] if np.ndim(value) else value)
    except (TypeError, ValueError, IndexError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    return out


def _array(value, what: str, shape: tuple) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a NumPy array of numbers, got {type(value).__name__}")
    if arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _reference_ppmi(C):
    C = np.asarray(C, dtype=np.float64)
    total = C.sum()
    P_w = C.sum(axis=1, keepdims=True) / total
    P_c = C.sum(axis=0, keepdims=True) / total
    out = np.zeros_like(C)
    nz = C > 0
    out[nz] = np.log((C / total / (P_w * P_c))[nz])
    return np.maximum(out, 0)


# --- 6.1 Word embeddings ---------------------------------------------------------------

@exercise("6.1.1", "cosine similarity")
def _check_cosine(cosine) -> str:
    rng = np.random.default_rng(611)
    for d in (2, 5, 64):
        a, b = rng.normal(size=d), rng.normal(size=d)
        expected = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        got = _float(cosine(a.copy(), b.copy()), f"cosine(a, b) for {d}-dimensional vectors")
        if np.isclose(got, expected, atol=1e-10):
            continue
        if np.isclose(got, a @ b):
            raise Wrong("you returned the dot product a·b: divide by the two lengths |a| |b|")
        if np.isclose(got, np.linalg.norm(a - b)):
            raise Wrong("you returned the Euclidean distance |a - b|; the cosine is a·b / (|a| |b|)")
        if np.isclose(got, np.arccos(np.clip(expected, -1, 1))):
            raise Wrong("you returned the angle θ (arccos); return cos θ itself")
        if np.isclose(got, a @ b / np.linalg.norm(a)) or np.isclose(got, a @ b / np.linalg.norm(b)):
            raise Wrong("you divided by only one of the two lengths: divide by |a| |b|")
        if np.isclose(got, a @ b / (a @ a * (b @ b))):
            raise Wrong("you divided by the squared lengths a·a and b·b: the length is the square root")
        raise not_close(f"for a = {np.round(a[:3], 3).tolist()}... the cosine", got, expected, rtol=1e-5, atol=1e-10)
    a, b = rng.normal(size=8), rng.normal(size=8)
    scaled, plain = _float(cosine(3.5 * a, 0.2 * b), "cosine(3.5 a, 0.2 b)"), _float(cosine(a, b), "cosine(a, b)")
    if not np.isclose(scaled, plain):
        scaled_text, plain_text = numbers(scaled, plain)
        raise Wrong(f"the cosine must not change when a vector is scaled: cosine(3.5 a, 0.2 b) = {scaled_text}, "
                    f"cosine(a, b) = {plain_text} (the check allows {tolerance(1e-5, 1e-8)})")
    opposite = _float(cosine(a, -a), "cosine(a, -a)")
    if not np.isclose(opposite, -1.0):
        raise not_close("opposite vectors have cosine -1: cosine(a, -a)", opposite, -1.0, rtol=1e-5, atol=1e-8)
    try:
        result = cosine(np.zeros(4), np.ones(4))
    except ValueError:
        pass
    else:
        raise Wrong(f"a zero vector has no direction: cosine(zeros, ones) should raise ValueError, "
                    f"but it returned {result!r}")
    return "three random pairs, scale invariance, cos = -1 for opposite vectors, ValueError for a zero vector"


@exercise("6.1.2", "PPMI of a count matrix")
def _check_ppmi(ppmi) -> str:
    rng = np.random.default_rng(612)
    matrices = [np.array([[0, 2, 1, 0], [5, 0, 0, 3], [1, 0, 5, 1], [0, 0, 2, 0]], dtype=float),
                np.array([[0, 2, 1, 0], [2, 0, 0, 3], [1, 0, 5, 1]], dtype=float),
                rng.integers(0, 4, size=(5, 7)).astype(float),
                np.array([[10, 0], [1, 1], [0, 4]], dtype=float)]
    for C in matrices:
        out = _array(ppmi(C.copy()), f"ppmi(C) for C of shape {C.shape}", C.shape)
        expected = _reference_ppmi(C)
        if np.allclose(out, expected, atol=1e-9):
            continue
        if not np.all(np.isfinite(out)):
            raise Wrong("the result contains nan or inf: cells with a zero count have log 0 = -inf; "
                        "set them to 0 (np.maximum(-inf, 0) is 0, but 0 * log 0 or nan is not)")
        if np.any(out < -1e-12):
            raise Wrong("the result has negative values: that is PMI; PPMI keeps max(0, PMI)")
        if np.allclose(out, expected / np.log(2), atol=1e-9):
            raise Wrong("you used log base 2: the exercise asks for natural logarithms (np.log)")
        if C.shape[0] == C.shape[1]:
            P = C / C.sum()
            swapped = np.zeros_like(C)
            nz = C > 0
            swapped[nz] = np.log((P / (P.sum(axis=0)[:, None] * P.sum(axis=1)[None, :]))[nz])
            if np.allclose(out, np.maximum(swapped, 0), atol=1e-9):
                raise Wrong("the marginals are swapped: P(w) comes from the row sums (axis=1), "
                            "P(c) from the column sums (axis=0)")
        if np.allclose(out, 0):
            raise Wrong("every cell is 0: log P(w, c) alone is always negative; divide by P(w) P(c) "
                        "inside the log before clipping at 0")
        i, j = np.unravel_index(int(np.argmax(np.abs(out - expected))), C.shape)  # the cell furthest off
        raise not_close(f"for C = {C.astype(int).tolist()} the PPMI of cell ({i}, {j})", out[i, j], expected[i, j],
                        rtol=1e-5, atol=1e-9)
    return "four count matrices (square or not, not symmetric, with zeros): max(0, log P(w,c) / P(w)P(c))"


@exercise("6.1.3", "the SGNS loss of one pair")
def _check_sgns_loss(sgns_loss) -> str:
    rng = np.random.default_rng(613)
    for d, K in ((4, 1), (8, 5), (16, 3)):
        v, u_pos, U_neg = rng.normal(size=d), rng.normal(size=d), rng.normal(size=(K, d))
        s_pos, s_neg = u_pos @ v, U_neg @ v
        expected = -_log_sigmoid(s_pos) - _log_sigmoid(-s_neg).sum()
        got = _float(sgns_loss(v.copy(), u_pos.copy(), U_neg.copy()), "sgns_loss(v, u_pos, U_neg)")
        if np.isclose(got, expected, rtol=1e-8, atol=1e-10):
            continue
        if np.isclose(got, -expected):
            raise Wrong("the sign is flipped: the loss is the NEGATIVE log-likelihood, a positive number")
        if np.isclose(got, -_log_sigmoid(s_pos) - _log_sigmoid(s_neg).sum()):
            raise Wrong("the noise words need log σ(-u·v): a negative pair is right when its score is LOW")
        if K > 1 and np.isclose(got, -_log_sigmoid(s_pos) - _log_sigmoid(-s_neg).mean()):
            raise Wrong("you averaged over the noise words; the loss SUMS their K terms")
        if np.isclose(got, -_log_sigmoid(s_pos)):
            raise Wrong("you left out the noise words: add -Σ_k log σ(-u_k·v)")
        sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
        if np.isclose(got, -sig(s_pos) - sig(-s_neg).sum()) or np.isclose(got, sig(s_pos) + sig(-s_neg).sum()):
            raise Wrong("take the logarithm of the sigmoids: the loss is -log σ(...), not σ(...)")
        raise not_close(f"for d = {d}, K = {K} the loss", got, expected, rtol=1e-8, atol=1e-10)
    v = np.full(4, 15.0)  # a confidently wrong pair: s+ = -900, s- = +900 (np.exp(900) overflows)
    with np.errstate(all="ignore"):
        got = _float(sgns_loss(v, -v, np.tile(v, (2, 1))), "sgns_loss with scores of ±900")
    expected = 3 * 900.0
    if not np.isclose(got, expected, rtol=1e-9):
        raise not_close("with scores s+ = -900 and s- = +900 the loss", got, expected, rtol=1e-9, atol=1e-8,
                        hint=": np.exp(900) overflows; compute log σ(x) as -np.logaddexp(0, -x)")
    return "three random pairs (K = 1, 5, 3) and scores of ±900 without overflow: -log σ(u·v) - Σ log σ(-u_k·v)"


@exercise("6.1.4", "nearest neighbours by cosine")
def _check_nearest(nearest) -> str:
    rng = np.random.default_rng(614)
    E = rng.normal(size=(40, 6))
    E *= rng.uniform(0.2, 5.0, size=(40, 1))  # lengths differ a lot: dot product != cosine
    En = E / np.linalg.norm(E, axis=1, keepdims=True)
    for i, k in ((0, 5), (7, 3), (39, 10)):
        out = nearest(E.copy(), i, k)
        try:
            got = np.asarray(out).astype(np.int64).ravel()
        except (TypeError, ValueError):
            raise Wrong(f"nearest should return an integer array of row indices, got {type(out).__name__}")
        sims = En @ En[i]
        sims_ex = sims.copy()
        sims_ex[i] = -np.inf
        expected = np.argsort(-sims_ex)[:k]
        if len(got) != k:
            raise Wrong(f"nearest(E, {i}, {k}) should return {k} indices, got {len(got)}")
        if np.array_equal(got, expected):
            continue
        if i in got:
            raise Wrong(f"row {i} itself is in the answer (its cosine with itself is 1): exclude it")
        if set(got) == set(expected):
            raise Wrong("the right neighbours in the wrong order: most similar first (sort by decreasing cosine)")
        dots = E @ E[i]
        dots[i] = -np.inf
        if np.array_equal(got, np.argsort(-dots)[:k]):
            raise Wrong("you ranked by the dot product; rows have different lengths, so normalise them "
                        "first (cosine)")
        dist = np.linalg.norm(E - E[i], axis=1)
        dist[i] = np.inf
        if np.array_equal(got, np.argsort(dist)[:k]):
            raise Wrong("you ranked by Euclidean distance; the exercise asks for cosine similarity")
        least = sims.copy()
        least[i] = np.inf
        if np.array_equal(got, np.argsort(least)[:k]):
            raise Wrong("you returned the LEAST similar rows: sort by decreasing cosine")
        raise Wrong(f"nearest(E, {i}, {k}) should be {expected.tolist()}, got {got.tolist()}")
    return "three queries on 40 vectors of very different lengths: cosine order, query row excluded"
