"""Checkers for section 7.3 (real-time recommendation)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise


def _ridge(Q, t, reg):
    return np.linalg.solve(Q.T @ Q + reg * np.eye(Q.shape[1]), Q.T @ t)


@exercise("7.3.1", "fold-in: one ridge solve for a user")
def _check_fold_in(fold_in_solve) -> str:
    rng = np.random.default_rng(731)
    for n, k, reg in ((12, 3, 2.0), (4, 6, 0.5)):  # the second has fewer ratings than factors
        Q, t = rng.normal(size=(n, k)), rng.normal(size=n)
        got = np.asarray(fold_in_solve(Q.copy(), t.copy(), reg), dtype=float)
        if got.shape != (k,):
            raise Wrong(f"with Q of shape {Q.shape} the user vector should have shape ({k},), got {got.shape}")
        expected = _ridge(Q, t, reg)
        if np.allclose(got, expected, atol=1e-9):
            continue
        if n >= k and np.allclose(got, np.linalg.lstsq(Q, t, rcond=None)[0], atol=1e-9):
            raise Wrong("this is plain least squares: add reg·I to QᵀQ (the ridge term)")
        if np.allclose(got, _ridge(Q, t, 2 * reg), atol=1e-9) or np.allclose(got, _ridge(Q, t, reg / 2), atol=1e-9):
            raise Wrong("the ridge term is off by a factor 2: solve (QᵀQ + reg·I) p = Qᵀt")
        raise Wrong(f"for {n} ratings and k = {k} factors your vector differs from the solution of "
                    f"(QᵀQ + reg·I) p = Qᵀt by up to {np.abs(got - expected).max():.3g}")
    return "(QᵀQ + λI) p = Qᵀt solved correctly, also with fewer ratings than factors"


@exercise("7.3.2", "an online (running) mean")
def _check_online_mean(online_mean) -> str:
    rng = np.random.default_rng(732)
    xs = rng.normal(3.5, 1.0, 50)
    mean = 0.0
    for n, x in enumerate(xs):
        got = float(online_mean(mean, n, float(x)))
        expected = mean + (x - mean) / (n + 1)
        if not np.isclose(got, expected, atol=1e-12):
            if n > 0 and np.isclose(got, mean + (x - mean) / n):
                raise Wrong("off by one: after the new value there are n + 1 values, so divide by n + 1")
            if np.isclose(got, (mean + x) / 2):
                raise Wrong("(mean + x) / 2 weights the new value as much as all old ones: use mean + (x − mean)/(n + 1)")
            raise Wrong(f"after {n} values with mean {mean:.4f}, adding {x:.4f} you returned {got:.4f}, "
                        f"expected {expected:.4f}")
        mean = got
    if not np.isclose(mean, xs.mean(), atol=1e-10):
        raise Wrong("the running mean drifted away from the batch mean")
    return "50 online updates reproduce the batch mean (np.mean) to 1e-10"


@exercise("7.3.3", "top-k with exclusions")
def _check_top_k(top_k_excluding) -> str:
    rng = np.random.default_rng(733)
    scores = rng.normal(size=1682)
    exclude = np.argsort(-scores)[[0, 2, 5]]  # three of the best items were already seen
    got = np.asarray(top_k_excluding(scores.copy(), 10, exclude.copy()))
    if got.shape != (10,):
        raise Wrong(f"return the 10 item indices as a 1-D array, got shape {got.shape}")
    allowed = np.setdiff1d(np.arange(1682), exclude)
    expected = allowed[np.argsort(-scores[allowed], kind="stable")][:10]
    if np.array_equal(got, expected):
        return "the 10 best allowed items, best first, seen items skipped"
    if np.isin(got, exclude).any():
        raise Wrong("your list contains excluded (already seen) items: set their scores to -inf first")
    if set(got.tolist()) == set(expected.tolist()):
        raise Wrong("the right items in the wrong order: sort the k items by score, best first")
    if np.array_equal(got, allowed[np.argsort(scores[allowed], kind="stable")][:10]):
        raise Wrong("these are the 10 worst items: argpartition/argsort sort ascending, use -scores")
    raise Wrong(f"expected items {expected.tolist()}, got {got.tolist()}")
