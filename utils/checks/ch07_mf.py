"""Checkers for section 7.2 (matrix factorization and implicit feedback)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _float(value, what: str) -> float:
    if isinstance(value, (str, bytes, dict, list, tuple, set)):
        raise Wrong(f"{what} should be one number, got a {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be one number, got {type(value).__name__}")
    if arr.size != 1:
        raise Wrong(f"{what} should be one number, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def _array(value, what: str, shape: tuple) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a NumPy array of numbers, got {type(value).__name__}")
    if arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


# --- 7.2 Matrix factorization -----------------------------------------------------------

def _reference_prediction(mu, b_u, b_i, p_u, q_i) -> float:
    return float(mu + b_u + b_i + np.dot(p_u, q_i))


@exercise("7.2.1", "the biased MF prediction")
def _check_predict_rating(predict_rating) -> str:
    rng = np.random.default_rng(721)
    for k in (1, 3, 8):
        mu, b_u, b_i = 3.5, float(rng.normal(0, 0.5)), float(rng.normal(0, 0.5))
        p_u, q_i = rng.normal(size=k), rng.normal(size=k)
        got = _float(predict_rating(mu, b_u, b_i, p_u.copy(), q_i.copy()), f"predict_rating (k = {k})")
        expected = _reference_prediction(mu, b_u, b_i, p_u, q_i)
        if np.isclose(got, expected, atol=1e-9):
            continue
        if np.isclose(got, expected - mu, atol=1e-9):
            raise Wrong("you left out the global mean μ: r̂ = μ + b_u + b_i + p_u·q_i")
        if np.isclose(got, mu + np.dot(p_u, q_i), atol=1e-9):
            raise Wrong("you left out the biases b_u and b_i")
        if np.isclose(got, mu + b_u + b_i, atol=1e-9):
            raise Wrong("you left out the dot product of the factors p_u·q_i")
        if np.isclose(got, mu + b_u + b_i + np.sum(p_u) * np.sum(q_i), atol=1e-9) or \
                np.isclose(got, mu + b_u + b_i + np.sum(p_u + q_i), atol=1e-9):
            raise Wrong("the factor term is the dot product Σ_f p_uf q_if (element-wise product, then sum)")
        yours, right = numbers(got, expected)
        raise Wrong(f"for μ = 3.5, b_u = {b_u:.3f}, b_i = {b_i:.3f} and k = {k} factors you returned "
                    f"{yours}, expected {right} (the check allows {tolerance(1e-5, 1e-9)})")
    return "μ + b_u + b_i + p_u·q_i matches for k = 1, 3 and 8 factors"


def _reference_sgd(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return (b_u - lr * (-2 * e + 2 * lam * b_u), b_i - lr * (-2 * e + 2 * lam * b_i),
            p_u - lr * (-2 * e * q_i + 2 * lam * p_u), q_i - lr * (-2 * e * p_u + 2 * lam * q_i))


@exercise("7.2.2", "one SGD update of biased MF")
def _check_sgd_step(sgd_step) -> str:
    rng = np.random.default_rng(722)
    names = ("b_u", "b_i", "p_u", "q_i")
    for k in (2, 5):
        for _ in range(3):
            r, mu = float(rng.integers(1, 6)), 3.5
            b_u, b_i = float(rng.normal(0, 0.3)), float(rng.normal(0, 0.3))
            p_u, q_i = rng.normal(0, 0.5, k), rng.normal(0, 0.5, k)
            lr, lam = 0.05, 0.1
            args = (r, mu, b_u, b_i, p_u.copy(), q_i.copy(), lr, lam)
            given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            out = sgd_step(*given)
            if not (isinstance(out, tuple) and len(out) == 4):
                raise Wrong("sgd_step should return a tuple of four: (b_u, b_i, p_u, q_i)")
            if not (np.array_equal(given[4], p_u) and np.array_equal(given[5], q_i)):
                raise Wrong("sgd_step changed the arrays it was given (p_u or q_i) in place: "
                            "work on copies, e.g. p_u - lr * grad, not p_u -= ...")
            got = (_float(out[0], "the new b_u"), _float(out[1], "the new b_i"),
                   _array(out[2], "the new p_u", (k,)), _array(out[3], "the new q_i", (k,)))
            expected = _reference_sgd(*args)
            if all(np.allclose(g, x, atol=1e-10) for g, x in zip(got, expected)):
                continue
            e = r - (mu + b_u + b_i + p_u @ q_i)
            half = (b_u - lr * (-e + lam * b_u), b_i - lr * (-e + lam * b_i),
                    p_u - lr * (-e * q_i + lam * p_u), q_i - lr * (-e * p_u + lam * q_i))
            if all(np.allclose(g, x, atol=1e-10) for g, x in zip(got, half)):
                raise Wrong("your step is half as long as it should be: the derivative of (r − r̂)² is "
                            "−2e·(∂r̂/∂θ), and of λθ² it is 2λθ (keep the factor 2)")
            ascent = tuple(2 * np.asarray(a) - np.asarray(x) for a, x in zip((b_u, b_i, p_u, q_i), expected))
            if all(np.allclose(g, x, atol=1e-10) for g, x in zip(got, ascent)):
                raise Wrong("the parameters moved uphill: a gradient step subtracts lr × gradient, "
                            "and the gradient of (r − r̂)² with respect to p_u is −2e q_i")
            new_p = expected[2]
            sequential_q = q_i - lr * (-2 * e * new_p + 2 * lam * q_i)
            if np.allclose(got[2], new_p, atol=1e-10) and np.allclose(got[3], sequential_q, atol=1e-10):
                raise Wrong("q_i was updated with the NEW p_u: compute every gradient from the old values first")
            no_reg = _reference_sgd(r, mu, b_u, b_i, p_u, q_i, lr, 0.0)
            if all(np.allclose(g, x, atol=1e-10) for g, x in zip(got, no_reg)):
                raise Wrong("the regularisation is missing: each gradient has a + 2λθ term")
            wrong = [n for n, g, x in zip(names, got, expected) if not np.allclose(g, x, atol=1e-10)]
            off = max(float(np.max(np.abs(np.asarray(g) - x))) for g, x in zip(got, expected))
            raise Wrong(f"the new {', '.join(wrong)} differ from one gradient step on ℓ "
                        f"(r = {r:g}, lr = {lr}, λ = {lam}) by up to {off:.3g} (the check allows "
                        f"{tolerance(1e-5, 1e-10)}); check their gradients")
    return "six random updates match θ − lr ∂ℓ/∂θ, with every gradient taken at the old values"


def _reference_bpr(p_u, q_i, q_j, b_i, b_j) -> float:
    x = (p_u @ q_i + b_i) - (p_u @ q_j + b_j)
    return float(np.logaddexp(0.0, -x))


@exercise("7.2.3", "the BPR loss of one triple")
def _check_bpr_triple(bpr_triple_loss) -> str:
    rng = np.random.default_rng(723)
    for _ in range(5):
        k = int(rng.integers(2, 6))
        p_u, q_i, q_j = rng.normal(size=k), rng.normal(size=k), rng.normal(size=k)
        b_i, b_j = float(rng.normal()), float(rng.normal())
        got = _float(bpr_triple_loss(p_u, q_i, q_j, b_i, b_j), "bpr_triple_loss")
        expected = _reference_bpr(p_u, q_i, q_j, b_i, b_j)
        if np.isclose(got, expected, atol=1e-9):
            continue
        x = (p_u @ q_i + b_i) - (p_u @ q_j + b_j)
        if np.isclose(got, np.logaddexp(0.0, x), atol=1e-9):
            raise Wrong("i and j are swapped: the loss is −log σ(x̂_ui − x̂_uj), small when the rated item i "
                        "scores higher than the sampled item j")
        if np.isclose(got, -expected, atol=1e-9):
            raise Wrong("the sign is wrong: the loss is MINUS log σ(x̂_ui − x̂_uj), which is positive")
        if np.isclose(got, np.logaddexp(0.0, -(p_u @ q_i - p_u @ q_j)), atol=1e-9):
            raise Wrong("the item biases are missing: x̂_ui = p_u·q_i + b_i")
        if np.isclose(got, 1 / (1 + np.exp(-x)), atol=1e-9) or np.isclose(got, 1 / (1 + np.exp(x)), atol=1e-9):
            raise Wrong("you returned a sigmoid, not the negative log of one")
        raise not_close(f"for a score difference x̂_ui − x̂_uj = {x:.4f} the loss", got, expected, rtol=1e-5,
                        atol=1e-9, named=f"−log σ({x:.4f})")
    p_u, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    for b_i, b_j in ((-800.0, 0.0), (60.0, 0.0)):
        with np.errstate(all="ignore"):
            got = _float(bpr_triple_loss(p_u, q, q, b_i, b_j), "bpr_triple_loss")
        expected = _reference_bpr(p_u, q, q, b_i, b_j)
        if not np.isfinite(got):
            raise Wrong(f"with x̂_ui − x̂_uj = {b_i - b_j:g} your loss is {got}: compute −log σ(x) as "
                        "np.logaddexp(0, −x), which never overflows")
        if not np.isclose(got, expected, rtol=1e-9, atol=1e-12):
            raise not_close(f"with x̂_ui − x̂_uj = {b_i - b_j:g} the loss", got, expected, rtol=1e-9, atol=1e-12,
                            hint="precision was lost: use np.logaddexp(0, −x)")
    return "matches −log σ(x̂_ui − x̂_uj) on five triples, and stays exact at differences of −800 and +60"


@exercise("7.2.4", "NDCG@k of a ranked list")
def _check_ndcg(ndcg_at_k) -> str:
    from utils import recsys

    cases = [([3, 1, 7, 9, 2], {1, 2, 8}, 5), ([5, 6, 7], {5}, 3), ([4, 5, 6, 7], {7, 8, 9, 10, 11}, 4),
             ([1, 2, 3, 4], {9}, 4), ([2, 9, 4, 1, 3, 8], {1, 2, 3, 4, 5, 6}, 3)]
    rng = np.random.default_rng(724)
    for _ in range(5):
        ranked = rng.permutation(30)[:10].tolist()
        cases.append((ranked, set(rng.choice(30, size=int(rng.integers(1, 12)), replace=False).tolist()),
                      int(rng.integers(1, 11))))
    for ranked, relevant, k in cases:
        got = _float(ndcg_at_k(list(ranked), set(relevant), k), "ndcg_at_k")
        expected = recsys.precision_recall_ndcg([ranked], [relevant], k)[2]
        if np.isclose(got, expected, atol=1e-9):
            continue
        where = f"for ranked = {ranked}, relevant = {sorted(relevant)}, k = {k}"
        hits = [item for item in ranked[:k] if item in relevant]
        if not np.isfinite(got) or (got == 0 and hits):
            raise Wrong(f"{where}: you returned {got} although {len(hits)} of the top {k} are relevant. The "
                        "discount of rank n (counting from 1) is 1/log2(n + 1), so the first place gets "
                        "1/log2(2) = 1, never 1/log2(1) = 1/0")

        def variant(discount=lambda n: 1 / np.log2(n + 2), depth=k, ideal_hits=min(k, len(relevant)), norm=True):
            dcg = sum(discount(n) for n, item in enumerate(ranked[:depth]) if item in relevant)
            return dcg / sum(discount(n) for n in range(ideal_hits)) if norm else dcg

        if np.isclose(got, variant(discount=lambda n: 1 / np.log2(n + 3)), atol=1e-9):
            raise Wrong(f"{where}: the discounts are shifted by one place: rank n counts from 1 and "
                        "its discount is 1/log2(n + 1) (1 for the first place)")
        if np.isclose(got, variant(norm=False), atol=1e-9):
            raise Wrong(f"{where}: you returned the DCG ({variant(norm=False):.4f}); divide it by the DCG "
                        "of an ideal ranking")
        if np.isclose(got, variant(ideal_hits=len(relevant)), atol=1e-9):
            raise Wrong(f"{where}: the ideal list has only k = {k} places, so it holds min(k, |relevant|) "
                        "hits, not all of them")
        if np.isclose(got, variant(depth=len(ranked)), atol=1e-9):
            raise Wrong(f"{where}: only the first k = {k} recommendations count")
        raise not_close(f"{where}: NDCG@k", got, expected, rtol=1e-5, atol=1e-9)
    if _float(ndcg_at_k([1, 2, 3], set(), 3), "ndcg_at_k with nothing relevant") != 0.0:
        raise Wrong("with no relevant item the NDCG should be 0.0")
    return "ten lists match utils.recsys.precision_recall_ndcg, including k < |relevant| and no hits"
